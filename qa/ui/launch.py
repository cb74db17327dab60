"""Serving the chat UI: `launch(settings, ...)`, what `qa serve` calls (`qa.ui.app` builds the app).

The launcher is, with the CLI, the only code that touches the environment: it switches Gradio's
analytics off before the app is built.

Example:
    >>> from qa.ui.launch import launch
    >>> app = launch(Settings(store_dir=Path("/tmp/qa-index")), port=7860)  # doctest: +SKIP
    >>> app.local_url, app.block_thread()  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from qa.config import Settings
from qa.offline import offline_env

if TYPE_CHECKING:
    import gradio as gr


def theme() -> gr.themes.Base:
    """Gradio's default look with local fonts: the default theme fetches Google Fonts."""
    import gradio as gr

    return gr.themes.Default(
        font=["system-ui", "-apple-system", "Segoe UI", "Roboto", "sans-serif"],
        font_mono=["ui-monospace", "SFMono-Regular", "Menlo", "monospace"],
    )


def launch(
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 7860,
    share: bool = False,
    auth: tuple[str, str] | None = None,
    *,
    upload_dir: Path | None = None,
) -> gr.Blocks:
    """Start serving the chat on `host:port` (loopback by default) and return the running app.

    Gradio's own start-up lines stay off (they end with a hint to set `share=True`): the caller
    says where the app is (`app.local_url`, and `app.share_url` when shared) and waits with
    `app.block_thread()` until Ctrl+C. The models load in the background meanwhile
    (`qa.ui.chat.warm_up`), so the first answer is as quick as the next.

    Args:
        settings: the index and backends to serve.
        host: interface to bind; anything but loopback should come with `auth`.
        port: TCP port.
        share: ask Gradio for a public link (off unless asked).
        auth: (username, password) required to open the app, or None.
        upload_dir: where uploads are kept; default `settings.store_dir / "uploads"`.
    """
    # Gradio reports usage and checks for new versions over the network unless this is set:
    # the app must work offline and say nothing about its users.
    offline_env(["GRADIO_ANALYTICS_ENABLED"], force=True)
    from qa.ui import chat as ui_chat
    from qa.ui import style as ui_style
    from qa.ui.app import build_app
    from qa.ui.library import MAX_UPLOAD_BYTES

    demo = build_app(settings, upload_dir=upload_dir)
    ui_chat.warm_up(settings)
    demo.launch(
        server_name=host,
        server_port=port,
        share=share,
        auth=auth,
        max_file_size=MAX_UPLOAD_BYTES,
        ssr_mode=False,
        mcp_server=False,
        footer_links=[],
        prevent_thread_lock=True,
        quiet=True,
        theme=theme(),
        css=ui_style.CSS,
        head=ui_style.HEAD,
    )
    return demo
