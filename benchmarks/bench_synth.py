"""Time the synthetic benchmark generator: images per second for `--n` images at `--size` pixels.

By default it writes exactly 5,000 LIP training images (with their clean labels and one noisy variant, `mix`) and
no validation or PASCAL-Person-Part images, so the number of images is the one asked for; `--full` writes the default
splits instead (n LIP train + n/5 val + n/2 PPP train + n/5 PPP val). The machine load is printed beside the rate
because other processes sharing the CPU slow it down.
Usage: python benchmarks/bench_synth.py [--n 5000] [--size 256] [--workers 2] [--out DIR] [--full]"""
import argparse, json, os, shutil, tempfile, time
from hparse.synth import make_benchmark

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--n', type=int, default=5000, help='LIP training images (default 5000)')
    p.add_argument('--size', type=int, default=256, help='image side in pixels (default 256)')
    p.add_argument('--workers', type=int, default=2, help='worker processes (default 2)')
    p.add_argument('--noise', nargs='*', default=['mix'], help='noisy label variants to write (default: mix)')
    p.add_argument('--out', default=None, help='output folder (default: a temporary folder, removed afterwards)')
    p.add_argument('--full', action='store_true', help='also write the default validation and PPP splits')
    a = p.parse_args(argv)
    out = a.out or tempfile.mkdtemp(prefix='bench_synth_')
    splits = {} if a.full else dict(n_val=0, n_ppp=0, n_ppp_val=0)
    load0 = os.getloadavg()[0]
    t0 = time.time()
    s = make_benchmark(out, n=a.n, size=a.size, noise=tuple(a.noise), workers=a.workers, samples=False, progress=False, **splits)
    dt = time.time() - t0
    print(json.dumps(dict(images=s['images'], size=a.size, workers=a.workers, cpus=os.cpu_count(), seconds=round(dt, 1),
                          images_per_s=round(s['images'] / dt, 1), load_before=round(load0, 2),
                          load_after=[round(x, 2) for x in os.getloadavg()], noise=s['noise'])))
    if a.out is None: shutil.rmtree(out)

if __name__ == '__main__': main()
