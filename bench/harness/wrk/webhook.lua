-- A webhook POST (Mailgun-style form body to /com.mailgun/v1, stored through the Iglu webhook
-- path), with the anchors' browser headers (run from the anchors dir).
dofile("wrk-common.lua")
dofile(os.getenv("SLUICE_BENCH_WRK") .. "/report.lua")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Cookie"] = nil
wrk.body = "event=delivered&recipient=alice%40example.com&domain=mg.example.com&message-headers=%5B%5B%22Subject%22%2C%22Your%20order%22%5D%5D&Message-Id=%3C20261126.1%40mg.example.com%3E&timestamp=1732600000&token=5f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1&signature=0f1e2d3c4b5a69788796a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e1f2a3b4c5d6e7f"
