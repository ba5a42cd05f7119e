"""A refused report request: the CLI prints the message as one line and writes no file."""


class ReportError(Exception):
    pass
