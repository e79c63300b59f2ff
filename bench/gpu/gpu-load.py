# Keeps GPU 0 busy with fp16 matrix multiplications for the given number of seconds.
#   python3 bench/gpu/gpu-load.py 6
import sys
import time

import torch

seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 6.0
a = torch.randn(8192, 8192, device="cuda", dtype=torch.float16)
b = torch.randn(8192, 8192, device="cuda", dtype=torch.float16)
start = time.time()
while time.time() - start < seconds:
    a @ b
torch.cuda.synchronize()
