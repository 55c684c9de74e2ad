"""REINFORCE with an entropy bonus on a small deterministic chain walk.

The agent starts at the left end of a chain and may step left, stay, or step right; reaching the right end pays
+1 and ends the episode, every other step costs a little. Actions are drawn by inverse CDF from the policy's
probabilities with NumPy uniforms, so a run is reproducible from --seed alone.
"""

import argparse

import numpy as np
import progutil
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Categorical


class ChainWalk:
    """States 0..length-1; actions 0=left, 1=stay, 2=right."""

    def __init__(self, length=6, max_steps=12, step_cost=0.05):
        self.length, self.max_steps, self.step_cost = length, max_steps, step_cost

    def reset(self):
        self.pos, self.t = 0, 0
        return self.observe()

    def observe(self):
        obs = np.zeros(self.length + 1, dtype=np.float32)
        obs[self.pos] = 1.0
        obs[-1] = self.t / self.max_steps
        return obs

    def step(self, action):
        self.pos = int(np.clip(self.pos + action - 1, 0, self.length - 1))
        self.t += 1
        done = self.pos == self.length - 1 or self.t >= self.max_steps
        reward = 1.0 if self.pos == self.length - 1 else -self.step_cost
        return self.observe(), reward, done


class Policy(nn.Module):
    def __init__(self, obs_size, hidden, num_actions):
        super().__init__()
        self.affine1 = nn.Linear(obs_size, hidden)
        self.affine2 = nn.Linear(hidden, num_actions)

    def forward(self, x):
        return self.affine2(F.tanh(self.affine1(x)))


def select_action(policy, obs, u):
    """Sample from Categorical(logits=policy(obs)) by inverse CDF with the uniform ``u``."""
    dist = Categorical(logits=policy(torch.from_numpy(obs).unsqueeze(0)))
    cdf = dist.probs.detach().cumsum(-1).squeeze(0).numpy()
    action = min(int(np.searchsorted(cdf, u, side="right")), len(cdf) - 1)
    a = torch.tensor([action])
    return action, dist.log_prob(a), dist.entropy()


def discounted_returns(rewards, gamma):
    out, running = [], 0.0
    for r in reversed(rewards):
        running = r + gamma * running
        out.insert(0, running)
    return out


def main():
    parser = argparse.ArgumentParser(description="REINFORCE on a chain walk")
    parser.add_argument("--episodes", type=int, default=30)
    parser.add_argument("--batch", type=int, default=4, help="episodes per update")
    parser.add_argument("--gamma", type=float, default=0.95)
    parser.add_argument("--lr", type=float, default=0.02)
    parser.add_argument("--entropy-coef", type=float, default=0.01)
    parser.add_argument("--hidden", type=int, default=16)
    parser.add_argument("--seed", type=int, default=543)
    parser.add_argument("--checkpoint", default="policy.pt")
    progutil.add_args(parser)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    torch.manual_seed(args.seed)
    env = ChainWalk()
    policy = Policy(env.length + 1, args.hidden, 3)
    progutil.start(args, model=policy)
    optimizer = torch.optim.Adam(policy.parameters(), lr=args.lr)
    eps = np.finfo(np.float32).eps.item()

    running_reward = 0.0
    for update in range(args.episodes // args.batch):
        log_probs, entropies, returns, totals, actions = [], [], [], [], []
        for _ in range(args.batch):
            obs, rewards, done = env.reset(), [], False
            while not done:
                action, log_prob, entropy = select_action(policy, obs, rng.random())
                obs, reward, done = env.step(action)
                log_probs.append(log_prob)
                entropies.append(entropy)
                rewards.append(reward)
                actions.append(action)
            returns.extend(discounted_returns(rewards, args.gamma))
            totals.append(sum(rewards))
        returns = torch.tensor(returns)
        returns = (returns - returns.mean()) / (returns.std() + eps)
        log_probs = torch.cat(log_probs)
        entropy = torch.cat(entropies).mean()
        policy_loss = -(log_probs * returns).sum() - args.entropy_coef * entropy
        optimizer.zero_grad()
        policy_loss.backward()
        optimizer.step()
        running_reward = 0.05 * float(np.mean(totals)) + 0.95 * running_reward
        print(f"Update {update}\tAverage reward: {np.mean(totals):.2f}\tRunning reward: {running_reward:.3f}")
        progutil.log(args, step=update, loss=policy_loss.item(), entropy=entropy.item(),
                     reward=float(np.mean(totals)), actions="".join(map(str, actions)))

    torch.save({"policy": policy.state_dict(), "optimizer": optimizer.state_dict()}, args.checkpoint)
    ckpt = torch.load(args.checkpoint)
    greedy = Policy(env.length + 1, args.hidden, 3)
    greedy.load_state_dict(ckpt["policy"])
    obs, done, path = env.reset(), False, []
    with torch.no_grad():
        while not done:
            action = int(greedy(torch.from_numpy(obs)).argmax())
            obs, _, done = env.step(action)
            path.append(env.pos)
        probs = Categorical(logits=greedy(torch.from_numpy(env.reset()))).probs
    print(f"Greedy path: {path}")
    adam_steps = int(ckpt["optimizer"]["state"][0]["step"])
    progutil.log(args, greedy_path=path, start_probs=probs.tolist(), adam_steps=adam_steps)
    progutil.finish(args, model=policy)


if __name__ == "__main__":
    main()
