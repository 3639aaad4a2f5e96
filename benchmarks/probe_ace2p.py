"""One A-CE2P training of the quick configuration on clean labels, with changes given as JSON; val mIoU per epoch, train and
val per-class IoU, wall time. The probes behind `55_repro.budget`'s first questions (issue 22), run before the budget
experiment existed; they train with fastai's one-cycle AdamW for `epochs` epochs (not SCHP's schedule).

    python benchmarks/probe_ace2p.py NAME '{"epochs": 10, "root": "DATA/lip", "aug": null}'

Keys: root (a LIP-layout benchmark), epochs, lr, seed, loss (ACE2PLoss switches), lovasz_at, model_kwargs, aug (null: none),
output_stride (8: layer3 dilated too), no_maxpool, and any `ace2p_learner` argument. Writes NAME.json in --out (default .)."""
import json, sys, time
from pathlib import Path
import torch
from fastai.torch_core import set_seed
from fastai.optimizer import Adam
from fastcore.basics import noop
from hparse.losses import ACE2PLoss
from hparse.data import parsing_dls
from hparse.schp import loader_scores
from hparse.train import ace2p_learner
from hparse.learner import EpochLog

name, ov = sys.argv[1], json.loads(sys.argv[2])
OUT = ov.pop('out', '.')
root = ov.pop('root')
epochs, lr, seed = ov.pop('epochs', 10), ov.pop('lr', 3e-3), ov.pop('seed', 0)
loss = ov.pop('loss', {}); lovasz_at = ov.pop('lovasz_at', 'logits')
mk = dict(nf_context=128, nf=64, align_corners=False); mk.update(ov.pop('model_kwargs', {}))
kw = dict(backbone='resnet18', model_kwargs=mk, pretrained='synth', fix_stem=False, cpu_bf16=True, size=64, bs=16)
aug = ov.pop('aug', 'default'); os_ = ov.pop('output_stride', None); no_maxpool = ov.pop('no_maxpool', False)
kw.update(ov)
import hparse.train as T, hparse.models.ace2p as A
from functools import partial
if aug != 'default':
    from hparse.data import AugParams
    kw['aug'] = None if aug is None else AugParams(**aug)
if os_:
    A.create_backbone = partial(A.create_backbone, output_stride=os_)
if no_maxpool:
    _cb = A.create_backbone
    def cb(*a, **k):
        m = _cb(*a, **k); m.maxpool = torch.nn.Identity(); return m
    A.create_backbone = cb
t0 = time.time(); set_seed(seed, reproducible=True)
out = Path(ov.pop('work', 'runs/probes')) / name
learn = ace2p_learner(root, 'lip', opt_func=Adam, loss_func=ACE2PLoss(lovasz_at=lovasz_at, **loss), path=out, **kw)
learn.remove_cb(learn.progress); learn.logger = noop
log = EpochLog(out)
learn.fit_one_cycle(epochs, lr, cbs=[log])
n = len(learn.dls.train); K = learn.model.num_classes
va = learn.metrics[0].cm.compute()
tr_dl = parsing_dls(root, 'lip', size=kw['size'], bs=32, valid_split='train').valid
tr = loader_scores(learn.model, tr_dl, K)
res = dict(name=name, overrides=sys.argv[2], steps=epochs * n, val_miou=[round(100 * r['mIoU'], 2) for r in log.rows],
           train_loss=[round(r.get('train_loss', float('nan')), 4) for r in log.rows], valid_loss=[round(r.get('valid_loss', float('nan')), 4) for r in log.rows],
           val_iou=[round(100 * float(v), 1) for v in va['iou']], train_miou=round(100 * float(tr['miou']), 2),
           train_iou=[round(100 * float(v), 1) for v in tr['iou']], wall_s=round(time.time() - t0, 1))
print(name, 'steps', res['steps'], 'val', res['val_miou'][-3:], 'train', res['train_miou'], 'loss', res['train_loss'][-1], res['valid_loss'][-1], 'wall', res['wall_s'], flush=True)
Path(OUT).mkdir(parents=True, exist_ok=True); json.dump(res, open(Path(OUT) / f'{name}.json', 'w'))
