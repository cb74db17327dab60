"""Ingest: files to articles (loaders and parsers per format), articles to chunks, and the job
that embeds them into the index (`job.ingest`)."""
