"""Output writers (PAGE XML, ALTO, text), ground-truth readers and schema validation."""
