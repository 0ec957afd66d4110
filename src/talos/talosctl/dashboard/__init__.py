"""`talosctl dashboard`: a full-screen terminal UI over one or several nodes (textual).

As upstream's (siderolabs/talos v1.13.9 `cmd/talosctl/cmd/talos/dashboard.go`,
`internal/pkg/dashboard/`), split one concept per module:

- `model`:   what is known of one node (`NodeSummary`) and the changes that update it;
- `panels`:  how a summary is drawn (header, info panels, sparklines, footer);
- `logpane`: the live log pane, one buffer per node;
- `sources`: the data feeds (streams where the node API has them, polls for statistics),
  each call with a deadline, each stream reconnecting with back-off;
- `explorer_model`, `explorer_source`, `explorer_view`: the Resources screen (F3, the
  resource explorer): its rows, its reads of the node's COSI state, its widgets;
- `app`:     the textual application (keys, layout, refresh);
- `command`: the click command (`-d/--update-interval`) that connects and runs it.
"""
