"""talosctl: the operator's CLI. One module per command group; imports only machinery."""
