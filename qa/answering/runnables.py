"""LangChain adapters: the retriever as a `BaseRetriever`, the pipeline as a `Runnable`.

Kept apart from `qa.index.retrieval` and `qa.answering.pipeline` so that answering does not import
LangChain (about 0.85 s of a cold `qa ask`); LangChain users compose these with other runnables.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from langchain_core.runnables import Runnable, RunnableLambda

from qa.answering.pipeline import answer
from qa.config import Settings
from qa.index.retrieval import retrieve
from qa.index.store import open_index
from qa.models.registry import embedder_for
from qa.types import Answer, Filters, Passage


def to_document(p: Passage) -> Document:
    """A passage as a LangChain Document (metadata: chunk id, source, offsets, scores)."""
    c = p.chunk
    meta: dict[str, Any] = {
        "id": c.id,
        "source": c.source,
        "title": c.title,
        "date": c.date,
        "publisher": c.publisher,
        "author": c.author,
        "page": c.page,
        "start": c.start,
        "end": c.end,
        "score": p.score,
    }
    return Document(page_content=c.text, metadata=meta, id=c.id)


class HybridRetriever(BaseRetriever):
    """The index's hybrid search as a LangChain retriever.

    Example:
        >>> retriever = HybridRetriever(settings=Settings(k=3))
        >>> docs = retriever.invoke("Which UN resolutions demand withdrawal?")
        >>> docs[0].metadata["source"]
        'corpus/000_597cfd3371608b94.txt'
    """

    settings: Settings
    filters: Filters | None = None

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        index = open_index(self.settings)
        embedder = embedder_for(self.settings)
        found = retrieve(query, index, embedder, self.settings, self.filters)
        return [to_document(p) for p in found.passages]


def build_chain(settings: Settings | None = None) -> Runnable[dict[str, Any], Answer]:
    """The pipeline as a LangChain Runnable: {"question", "history"?, "filters"?, "as_of"?} ->
    Answer.

    Example:
        >>> chain = build_chain(Settings())
        >>> chain.invoke({"question": "Which UN resolutions demand withdrawal?"}).answered
        True
    """

    def run(inputs: dict[str, Any]) -> Answer:
        return answer(
            inputs["question"],
            inputs.get("history", ()),
            settings=settings,
            filters=inputs.get("filters"),
            as_of=inputs.get("as_of"),
        )

    return RunnableLambda(run, name="qa")
