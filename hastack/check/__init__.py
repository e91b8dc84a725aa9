"""`hastack check`: run the policy pack on an offline plan through the analyzer protocol.

`protocol` turns plan resources into analyzer messages, `analyzer` hosts the pack
and plays the engine, `report` writes the console table, JSON and SARIF, and
`cli.check_main` is the command.
"""
