"""Import jobs (docs/imports.md): peers' export files parsed row by row into create bodies,
processed in resumable chunks that never create a row twice."""
