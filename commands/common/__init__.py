"""What several command families share and none owns: finding a ticket and posting in its thread,
the languages of the spaces, a ticket's SLA deadlines, who is on call. Below every family: nothing
here imports a family."""
