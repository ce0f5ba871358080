"""Project knowledge: PDFs -> page-aware chunks -> embeddings -> Chroma, and retrieval with citations."""
