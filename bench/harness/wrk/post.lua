-- POST tp2: the anchors' 1,850-byte batch of 3 events (run from the anchors dir).
dofile("post.lua")
dofile(os.getenv("SLUICE_BENCH_WRK") .. "/report.lua")
