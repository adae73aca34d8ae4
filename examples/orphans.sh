#!/bin/sh
# A workload that leaves orphans behind, as daemons and shell pipelines do: each
# background job is started from a subshell that exits at once, so the job's parent
# is gone and the init (or nearest subreaper) inherits it and must reap it.
echo "demo: starting 5 orphans (each sleeps, then exits)"
for i in 1 2 3 4 5; do
  ( sleep "0.$i" & )
done
sleep 1
echo "demo: done; exiting 0"
