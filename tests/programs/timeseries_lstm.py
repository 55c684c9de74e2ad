"""Sine-wave sequence prediction, after the time-sequence-prediction example: two stacked LSTMCells unrolled
by hand and a Linear head, trained in float64 with MSELoss (Adam, or L-BFGS as the original example), each
step through a closure; the test split is predicted ``--future`` steps past its end by feeding the model its
own outputs."""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.optim as optim

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import progutil  # noqa: E402


class Sequence(nn.Module):
    def __init__(self, hidden=51):
        super().__init__()
        self.hidden = hidden
        self.lstm1 = nn.LSTMCell(1, hidden)
        self.lstm2 = nn.LSTMCell(hidden, hidden)
        self.linear = nn.Linear(hidden, 1)

    def forward(self, input, future=0):
        outputs = []
        h_t = torch.zeros(input.size(0), self.hidden, dtype=torch.double)
        c_t = torch.zeros(input.size(0), self.hidden, dtype=torch.double)
        h_t2 = torch.zeros(input.size(0), self.hidden, dtype=torch.double)
        c_t2 = torch.zeros(input.size(0), self.hidden, dtype=torch.double)

        for input_t in input.split(1, dim=1):
            h_t, c_t = self.lstm1(input_t, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        for _ in range(future):  # if we should predict the future
            h_t, c_t = self.lstm1(output, (h_t, c_t))
            h_t2, c_t2 = self.lstm2(h_t, (h_t2, c_t2))
            output = self.linear(h_t2)
            outputs += [output]
        outputs = torch.cat(outputs, dim=1)
        return outputs


def make_data(seed, n=20, length=60, period=20):
    """``n`` sine waves of ``length`` samples, each shifted by a random phase."""
    rng = np.random.default_rng(seed)
    x = np.empty((n, length), dtype=np.float64)
    x[:] = np.arange(length) + rng.integers(-4 * period, 4 * period, n).reshape(n, 1)
    return np.sin(x / 1.0 / period).astype(np.float64)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--steps', type=int, default=15, help='steps to run')
    parser.add_argument('--hidden', type=int, default=51)
    parser.add_argument('--optim', default='adam', choices=['adam', 'lbfgs'])
    parser.add_argument('--lr', type=float, default=0.01)
    parser.add_argument('--future', type=int, default=1000)
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--save', default='seq.pt')
    progutil.add_args(parser)
    args = parser.parse_args()
    # set random seed to 0
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    # load data and make training set
    data = make_data(args.seed)
    input = torch.from_numpy(data[3:, :-1])
    target = torch.from_numpy(data[3:, 1:])
    test_input = torch.from_numpy(data[:3, :-1])
    test_target = torch.from_numpy(data[:3, 1:])
    # build the model
    seq = Sequence(args.hidden)
    seq.double()
    progutil.start(args, model=seq)
    criterion = nn.MSELoss()
    if args.optim == 'lbfgs':
        optimizer = optim.LBFGS(seq.parameters(), lr=args.lr, max_iter=5)
    else:
        optimizer = optim.Adam(seq.parameters(), lr=args.lr)
    # begin to train
    for i in range(args.steps):
        print('STEP: ', i)

        def closure():
            optimizer.zero_grad()
            out = seq(input)
            loss = criterion(out, target)
            print('loss:', loss.item())
            loss.backward()
            return loss
        loss = optimizer.step(closure)
        progutil.log(args, step=i, loss=float(loss))
        # begin to predict, no need to track gradient here
        with torch.no_grad():
            future = args.future
            pred = seq(test_input, future=future)
            loss = criterion(pred[:, :-future], test_target)
            print('test loss:', loss.item())
            y = pred.detach().numpy()
        progutil.log(args, kind='test', step=i, test_loss=loss.item(), future=y[:, -future:].tolist())
    torch.save(seq.state_dict(), args.save)
    restored = Sequence(args.hidden).double()
    restored.load_state_dict(torch.load(args.save))
    with torch.no_grad():
        again = restored(test_input, future=args.future)
    assert torch.equal(again, pred), "the reloaded model predicts differently"
    progutil.finish(args, model=seq)


if __name__ == '__main__':
    main()
