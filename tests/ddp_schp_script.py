"Run by tests/test_ddp.py under torchrun: a tiny SCHP run with DDP; each rank saves what it ends with."
import sys, torch
from pathlib import Path
from fastai.callback.core import Callback
from fastai.callback.schedule import ParamScheduler
from hparse.learner import _tiny_learner, ddp_ctx, unwrap
from hparse.schp import SCHPCallback, schp_schedule
from hparse.losses import soft_kl, parsing_ce
from fastai.distributed import rank_distrib

class SoftCE(torch.nn.Module):
    def forward(self, pred, y, soft=None): return parsing_ce(pred, y) if soft is None else soft_kl(pred, soft)

class Spy(Callback):
    order = 61
    def before_fit(self): self.ends = []
    def after_epoch(self):
        if self.learn.schp.is_cycle_end(self.epoch):
            self.ends.append({k: v.detach().clone() for k, v in unwrap(self.learn.model).state_dict().items()})

out = Path(sys.argv[1])
learn = _tiny_learner(out / 'run', loss_func=SoftCE())
learn.add_cbs([SCHPCallback(2, 1, n_classes=4), Spy()])
with ddp_ctx(learn):
    learn.fit(5, cbs=ParamScheduler({'lr': schp_schedule(0.1, 5, start=2, cycle_len=1)}))
torch.save(dict(final=learn.model.state_dict(), ends=learn.spy.ends, records=learn.schp_records,
                world=torch.distributed.get_world_size() if torch.distributed.is_initialized() else 1),
           out / f'rank{rank_distrib()}.pt')
