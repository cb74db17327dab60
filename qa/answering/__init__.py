"""Answering: the reader's span across the retrieved passages (extractive), what the sources say
together, an optional generative answer checked sentence by sentence, and the pipeline that
runs them (`pipeline.answer`)."""
