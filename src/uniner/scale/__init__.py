"""Corpus-scale engines on Ray (the optional ``ray`` extra): ``--engine ray`` of ``uniner
extract`` and ``uniner distill``.

Why Ray and not a home-made pool: Ray Data schedules the work over one machine or a cluster
(``--address``), keeps a pool of model-holding actors, restarts a dead worker and retries its
task, and streams results back with back-pressure. What stays ours is only what makes the output
correct and resumable, and it reuses the single-process code paths:

* :mod:`uniner.scale.shards`: input shards, their record checks (the same as ``uniner extract
  -i``), per-shard atomic commits and done markers.
* :mod:`uniner.scale.ray_extract`: the extraction pipeline (an actor pool of span extractors).
* :mod:`uniner.scale.ray_distill`: the annotate step of ``uniner distill`` over passage shards,
  each shard run by the local runner on its own store, merged on completion.

It sits at the command layer beside :mod:`uniner.cli` but below it: only :mod:`uniner.scale.cli`
(the options' glue) imports the CLI; the record checks and output rows both engines share are
:mod:`uniner.inference.records`, the error type :mod:`uniner.errors`, so both write the same
records and fail with the same lines. Nothing here is imported unless ``--engine ray`` is asked
for, and ``ray`` itself is imported lazily.
"""
