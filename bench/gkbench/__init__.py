"""The Gatekeeper benchmark behind bench/run, split by concern:

    settings.py   BENCH_* settings, paths, constants, log() and die()
    setup.py      Debian packages, the httpd user, keys, tokens, module
                  snapshots
    servers.py    Server, request profiles, the shared httpd.conf,
                  start/stop, plain HTTP checks
    wrk.py        throughput rounds, paired schedule, ratios
    callgrind.py  instructions per request, per-function differences
    report.py     machine description, bench/out/results*.{json,md}
    auth.py       suite: bare, gk-*, oidc-*, oauth2-* (mod_gk_auth and peers)
    log.py        suite: log, log-in, log-combined, log-json (mod_gk_log)
    headers.py    suite: headers-api, headers-cors, modheaders-cors
                  (mod_gk_headers and mod_headers)
    ratelimit.py  suite: ratelimit-shm, qos, evasive (mod_gk_ratelimit,
                  mod_qos and mod_evasive)
    main.py       the modes: which servers run, in which order

A suite is a module with: MODULES, profiles(), servers(index),
baselines(selected), prepare(selected), config_block(server, port),
check(server), cg_runs(server), cg_targets(results),
wrk_report(targets, res, med, spread, ratios) and wrk_targets(ratios, res);
main.SUITES lists them."""
