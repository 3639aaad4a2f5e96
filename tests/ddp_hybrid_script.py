"Run by tests/test_ddp.py under torchrun: hybrid retraining (labeled + pseudo-labeled batches with noisy masks) under DDP."
import sys, torch
from pathlib import Path
from fastai.callback.core import Callback
from fastai.distributed import rank_distrib
from hparse.data import find_items, split_labeled
from hparse.hybrid import PseudoLabels, hybrid_dls, hybrid_learner
from hparse.learner import ddp_ctx, unwrap
from hparse.models.hipn import HIPN

class Count(Callback):
    "Count the training batches this rank sees and the noisy pixels they carry."
    def before_fit(self): self.n_batches, self.n_noisy = 0, 0
    def before_batch(self):
        if not self.training: return
        self.n_batches += 1
        if len(self.yb) > 1: self.n_noisy += int(self.yb[1].sum())

root, pl_dir, out = map(Path, sys.argv[1:4])
torch.manual_seed(0)
tr = find_items(root, 'ppp', 'train')
lab, unl = split_labeled(tr.ids, 1/2, 0)
dls = hybrid_dls(root, 'ppp', lab, PseudoLabels(pl_dir), unl, 'both', size=64, bs=2)
model = HIPN(tr.tax.n, tr.tax, backbone='hrnet_small', stages=1, C=8)
model.load_state_dict(torch.load(out / 'init.pth', weights_only=True))  # the same start on both ranks
learn = hybrid_learner(dls, model, tr.tax, lr=1e-2, path=out, cbs=Count())
with ddp_ctx(learn):
    learn.fit(2)
torch.save(dict(final=unwrap(learn.model).state_dict(), n_batches=learn.count.n_batches, n_noisy=learn.count.n_noisy,
                n_items=len(dls.train.dataset), world=torch.distributed.get_world_size() if torch.distributed.is_initialized() else 1),
           out / f'rank{rank_distrib()}.pt')
