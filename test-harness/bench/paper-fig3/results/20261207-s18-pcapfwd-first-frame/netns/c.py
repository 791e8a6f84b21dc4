import socket, time, sys
for i in range(5):
    s = socket.socket(); s.settimeout(2); t0 = time.perf_counter()
    try:
        s.connect((sys.argv[1], 5301)); print(i, "ok", round((time.perf_counter()-t0)*1e6), "us")
    except OSError as e:
        print(i, "fail", repr(e), round((time.perf_counter()-t0)*1e3), "ms")
    s.close(); time.sleep(0.002)
