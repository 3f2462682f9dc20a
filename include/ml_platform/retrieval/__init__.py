"""Retrieval layer of the help-centre assistant: chunking, embeddings, vector stores, blue/green indexing.

Submodules are imported on demand (e.g. `from ml_platform.retrieval.index import refresh_index`) so that
importing the package never loads torch, LanceDB or the Weaviate client.
"""
