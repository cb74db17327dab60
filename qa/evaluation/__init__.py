"""Evaluation and benchmarking: datasets, metrics, SQuAD runs, reports and `qa bench`.

Nothing in the product imports this package; `qa eval` and `qa bench` import it inside the
command, so `import qa` and `qa --help` never load it.

    dataset       JSON Lines cases (`eval/questions.jsonl`)
    metrics       exact match, token F1, hit@k, citation and abstention scores
    faithfulness  the share of an answer's sentences their citations support
    evaluate      run cases through `qa.answer` and score them
    compare       `--fail-under` thresholds; two reports compared
    report        the result as Rich tables, JSON, Markdown and a chart
    squad         SQuAD v1.1 (and the naive LangChain baseline); squad2: answer-or-abstain
    stability     the dataset again with distractor articles indexed beside the corpus
    articles      generated articles with planted facts; gencorpus writes them as a corpus
    bench         `qa bench`'s figures and targets; latency: those measured in a fresh process
"""
