"""The index: Chroma (on disk or a server) for vectors, a SQLite ledger for articles, chunk text
and the keyword index, kept in step; `store.Index` is what other stages use; `retrieval` searches
it."""
