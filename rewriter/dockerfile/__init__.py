"""The Dockerfile language: syntax, shell reading, the stage model, image families, templates and the rules."""
