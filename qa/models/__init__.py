"""Models, by name: embedders (sentence-transformers, ONNX int8, a hash double) and chat
models (llama.cpp in process, OpenAI-compatible servers, Ollama); `registry` maps names to them."""
