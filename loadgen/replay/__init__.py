"""Replay of real traffic: logs of calls read, selected and planned as an open-loop run.

The path, in order (docs/replay.md has the why of each rule):
- reading.py: every source (files, folders, `s3://` prefixes: s3_objects.py) read whole, its
  layout told from its content (layouts.py: a Bedrock invocation log, invocation_log.py; a
  CloudWatch Logs export, cloudwatch_logs.py; the Azure LLM inference trace; BurstGPT), each
  record parsed or counted as skipped with its reason (records.py);
- selection.py: instants spread within their logged second (spreading.py), moved back by the
  server's latency when the timestamp marks the end, the window, the model map, the scenario's
  models, the arrivals thinned or duplicated (rate_scale.py), the limit;
- planning.py: each kept call a `Planned` request at (instant - first) / speed, with its
  model, the API of its operation, max_tokens, its prompt (the logged conversation, bodies.py,
  or a synthetic one of its size) and its logged options (options.py);
- setup.py: all of it for a run, giving a ReplayPlan (replay_plan.py) that loadgen/run/ sends
  and loadgen/report/replay_section.py reports, the source beside what was replayed.
sample_logs.py writes synthetic invocation logs for tests and docs.
"""
