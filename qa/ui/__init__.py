"""The Gradio chat: the app (`app`), each session's questions (`chat`), the article library,
HTML and styles, and the launcher that serves it."""
