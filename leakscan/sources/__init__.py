"""Sources: the only modules that read files or git. Each yields Blob or Skipped records."""
