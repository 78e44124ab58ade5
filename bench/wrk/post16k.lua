-- Workload 2: every request is a POST of 16 KiB, which the echo app returns.
dofile("bench/wrk/report.lua")
wrk.method = "POST"
wrk.body = string.rep("x", 16384)
wrk.headers["Content-Type"] = "application/octet-stream"
