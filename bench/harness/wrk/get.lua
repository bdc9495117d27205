-- GET /i with the anchors' 664-byte tracker query and browser headers (run from the anchors dir).
dofile("get.lua")
dofile(os.getenv("SLUICE_BENCH_WRK") .. "/report.lua")
