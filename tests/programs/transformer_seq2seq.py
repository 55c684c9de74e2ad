"""A sequence-to-sequence nn.Transformer on a toy task (reverse a sequence of digits), after the "language
translation with nn.Transformer" tutorial: token embeddings scaled by sqrt(d_model), sinusoidal positional
encoding, causal target mask from nn.Transformer.generate_square_subsequent_mask, source/target padding masks,
CrossEntropyLoss(ignore_index=PAD), Adam, greedy decoding. The compared runs pass ``--dropout 0``."""

from __future__ import annotations

import argparse
import math
import os
import sys

import numpy as np
import torch
import torch.nn as nn
from torch import Tensor
from torch.nn import Transformer
from torch.nn.utils.rnn import pad_sequence

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import progutil  # noqa: E402

PAD_IDX, BOS_IDX, EOS_IDX, UNK_IDX = 1, 2, 3, 0
SPECIALS = ['<unk>', '<pad>', '<bos>', '<eos>']


class PositionalEncoding(nn.Module):
    def __init__(self, emb_size: int, dropout: float, maxlen: int = 5000):
        super().__init__()
        den = torch.exp(- torch.arange(0, emb_size, 2) * math.log(10000) / emb_size)
        pos = torch.arange(0, maxlen).reshape(maxlen, 1)
        pos_embedding = torch.zeros((maxlen, emb_size))
        pos_embedding[:, 0::2] = torch.sin(pos * den)
        pos_embedding[:, 1::2] = torch.cos(pos * den)
        pos_embedding = pos_embedding.unsqueeze(-2)
        self.dropout = nn.Dropout(dropout)
        self.register_buffer('pos_embedding', pos_embedding)

    def forward(self, token_embedding: Tensor):
        return self.dropout(token_embedding + self.pos_embedding[:token_embedding.size(0), :])


class TokenEmbedding(nn.Module):
    def __init__(self, vocab_size: int, emb_size):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, emb_size)
        self.emb_size = emb_size

    def forward(self, tokens: Tensor):
        return self.embedding(tokens.long()) * math.sqrt(self.emb_size)


class Seq2SeqTransformer(nn.Module):
    def __init__(self, num_encoder_layers: int, num_decoder_layers: int, emb_size: int, nhead: int,
                 src_vocab_size: int, tgt_vocab_size: int, dim_feedforward: int = 512, dropout: float = 0.1):
        super().__init__()
        self.transformer = Transformer(d_model=emb_size, nhead=nhead, num_encoder_layers=num_encoder_layers,
                                       num_decoder_layers=num_decoder_layers, dim_feedforward=dim_feedforward,
                                       dropout=dropout)
        self.generator = nn.Linear(emb_size, tgt_vocab_size)
        self.src_tok_emb = TokenEmbedding(src_vocab_size, emb_size)
        self.tgt_tok_emb = TokenEmbedding(tgt_vocab_size, emb_size)
        self.positional_encoding = PositionalEncoding(emb_size, dropout=dropout)

    def forward(self, src: Tensor, trg: Tensor, src_mask: Tensor, tgt_mask: Tensor, src_padding_mask: Tensor,
                tgt_padding_mask: Tensor, memory_key_padding_mask: Tensor):
        src_emb = self.positional_encoding(self.src_tok_emb(src))
        tgt_emb = self.positional_encoding(self.tgt_tok_emb(trg))
        outs = self.transformer(src_emb, tgt_emb, src_mask, tgt_mask, None,
                                src_padding_mask, tgt_padding_mask, memory_key_padding_mask)
        return self.generator(outs)

    def encode(self, src: Tensor, src_mask: Tensor):
        return self.transformer.encoder(self.positional_encoding(self.src_tok_emb(src)), src_mask)

    def decode(self, tgt: Tensor, memory: Tensor, tgt_mask: Tensor):
        return self.transformer.decoder(self.positional_encoding(self.tgt_tok_emb(tgt)), memory, tgt_mask)


def create_mask(src, tgt):
    src_seq_len = src.shape[0]
    tgt_seq_len = tgt.shape[0]
    tgt_mask = Transformer.generate_square_subsequent_mask(tgt_seq_len)
    src_mask = torch.zeros((src_seq_len, src_seq_len)).type(torch.bool)
    src_padding_mask = (src == PAD_IDX).transpose(0, 1)
    tgt_padding_mask = (tgt == PAD_IDX).transpose(0, 1)
    return src_mask, tgt_mask, src_padding_mask, tgt_padding_mask


def make_pairs(rng, n, ndigits, min_len, max_len):
    """(source, reversed source) pairs of digit tokens (ids from len(SPECIALS) on)."""
    pairs = []
    for _ in range(n):
        seq = rng.integers(len(SPECIALS), len(SPECIALS) + ndigits, rng.integers(min_len, max_len + 1))
        pairs.append((seq, seq[::-1].copy()))
    return pairs


def collate_fn(batch):
    src_batch, tgt_batch = [], []
    for src_sample, tgt_sample in batch:
        src_batch.append(torch.cat([torch.tensor([BOS_IDX]), torch.from_numpy(src_sample), torch.tensor([EOS_IDX])]))
        tgt_batch.append(torch.cat([torch.tensor([BOS_IDX]), torch.from_numpy(tgt_sample), torch.tensor([EOS_IDX])]))
    src_batch = pad_sequence(src_batch, padding_value=PAD_IDX)
    tgt_batch = pad_sequence(tgt_batch, padding_value=PAD_IDX)
    return src_batch, tgt_batch


def greedy_decode(model, src, src_mask, max_len, start_symbol):
    memory = model.encode(src, src_mask)
    ys = torch.ones(1, 1).fill_(start_symbol).type(torch.long)
    for _ in range(max_len - 1):
        tgt_mask = (Transformer.generate_square_subsequent_mask(ys.size(0)).type(torch.bool))
        out = model.decode(ys, memory, tgt_mask)
        out = out.transpose(0, 1)
        prob = model.generator(out[:, -1])
        _, next_word = torch.max(prob, dim=1)
        next_word = next_word.item()
        ys = torch.cat([ys, torch.ones(1, 1).type_as(src.data).fill_(next_word)], dim=0)
        if next_word == EOS_IDX:
            break
    return ys


def main():
    parser = argparse.ArgumentParser(description='seq2seq nn.Transformer on a reversal task')
    parser.add_argument('--epochs', type=int, default=18)
    parser.add_argument('--batch-size', type=int, default=128)
    parser.add_argument('--train-size', type=int, default=2048)
    parser.add_argument('--val-size', type=int, default=256)
    parser.add_argument('--ndigits', type=int, default=10)
    parser.add_argument('--min-len', type=int, default=3)
    parser.add_argument('--max-len', type=int, default=8)
    parser.add_argument('--emb-size', type=int, default=512)
    parser.add_argument('--nhead', type=int, default=8)
    parser.add_argument('--ffn-hid-dim', type=int, default=512)
    parser.add_argument('--num-encoder-layers', type=int, default=3)
    parser.add_argument('--num-decoder-layers', type=int, default=3)
    parser.add_argument('--dropout', type=float, default=0.1)
    parser.add_argument('--lr', type=float, default=0.0001)
    parser.add_argument('--decode', type=int, default=4, help='how many validation sources to decode greedily')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--save', default='seq2seq.pt')
    progutil.add_args(parser)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    vocab_size = len(SPECIALS) + args.ndigits
    train_pairs = make_pairs(rng, args.train_size, args.ndigits, args.min_len, args.max_len)
    val_pairs = make_pairs(rng, args.val_size, args.ndigits, args.min_len, args.max_len)

    transformer = Seq2SeqTransformer(args.num_encoder_layers, args.num_decoder_layers, args.emb_size, args.nhead,
                                     vocab_size, vocab_size, args.ffn_hid_dim, args.dropout)
    for p in transformer.parameters():
        if p.dim() > 1:
            nn.init.xavier_uniform_(p)
    progutil.start(args, model=transformer)
    loss_fn = torch.nn.CrossEntropyLoss(ignore_index=PAD_IDX)
    optimizer = torch.optim.Adam(transformer.parameters(), lr=args.lr, betas=(0.9, 0.98), eps=1e-9)
    step = 0

    def train_epoch(model, optimizer):
        nonlocal step
        model.train()
        losses = 0
        order = rng.permutation(len(train_pairs))  # shuffle with NumPy
        batches = [order[i:i + args.batch_size] for i in range(0, len(order), args.batch_size)]
        for idx in batches:
            src, tgt = collate_fn([train_pairs[i] for i in idx])
            tgt_input = tgt[:-1, :]
            src_mask, tgt_mask, src_padding_mask, tgt_padding_mask = create_mask(src, tgt_input)
            logits = model(src, tgt_input, src_mask, tgt_mask, src_padding_mask, tgt_padding_mask, src_padding_mask)
            optimizer.zero_grad()
            tgt_out = tgt[1:, :]
            loss = loss_fn(logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1))
            loss.backward()
            optimizer.step()
            losses += loss.item()
            progutil.log(args, step=step, loss=loss.item())
            step += 1
        return losses / len(batches)

    def evaluate(model):
        model.eval()
        losses = 0
        batches = [val_pairs[i:i + args.batch_size] for i in range(0, len(val_pairs), args.batch_size)]
        with torch.no_grad():
            for batch in batches:
                src, tgt = collate_fn(batch)
                tgt_input = tgt[:-1, :]
                src_mask, tgt_mask, src_padding_mask, tgt_padding_mask = create_mask(src, tgt_input)
                logits = model(src, tgt_input, src_mask, tgt_mask, src_padding_mask, tgt_padding_mask,
                               src_padding_mask)
                tgt_out = tgt[1:, :]
                loss = loss_fn(logits.reshape(-1, logits.shape[-1]), tgt_out.reshape(-1))
                losses += loss.item()
        return losses / len(batches)

    for epoch in range(1, args.epochs + 1):
        train_loss = train_epoch(transformer, optimizer)
        val_loss = evaluate(transformer)
        print(f"Epoch: {epoch}, Train loss: {train_loss:.3f}, Val loss: {val_loss:.3f}")
        progutil.log(args, kind='epoch', epoch=epoch, train_loss=train_loss, val_loss=val_loss)

    torch.save(transformer.state_dict(), args.save)
    model = Seq2SeqTransformer(args.num_encoder_layers, args.num_decoder_layers, args.emb_size, args.nhead,
                               vocab_size, vocab_size, args.ffn_hid_dim, args.dropout)
    model.load_state_dict(torch.load(args.save))
    model.eval()
    correct = 0
    for src_seq, tgt_seq in val_pairs[:args.decode]:
        src = torch.cat([torch.tensor([BOS_IDX]), torch.from_numpy(src_seq), torch.tensor([EOS_IDX])]).view(-1, 1)
        num_tokens = src.shape[0]
        src_mask = (torch.zeros(num_tokens, num_tokens)).type(torch.bool)
        with torch.no_grad():
            tgt_tokens = greedy_decode(model, src, src_mask, max_len=num_tokens + 5, start_symbol=BOS_IDX).flatten()
        words = [SPECIALS[t] if t < len(SPECIALS) else str(t - len(SPECIALS)) for t in tgt_tokens.tolist()]
        text = " ".join(w for w in words if w not in ('<bos>', '<eos>'))
        expect = " ".join(str(t - len(SPECIALS)) for t in tgt_seq)
        correct += text == expect
        print(f"{' '.join(str(t - len(SPECIALS)) for t in src_seq)} -> {text}")
        progutil.log(args, kind='decode', source=src_seq.tolist(), output=tgt_tokens.tolist())
    print(f"greedy decoding: {correct}/{args.decode} reversed correctly")
    progutil.finish(args, model=transformer)


if __name__ == '__main__':
    main()
