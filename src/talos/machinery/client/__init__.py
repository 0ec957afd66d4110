"""Client-side helpers: the talosconfig model and (later) connections to nodes."""
