# A sequence classifier over variable-length inputs, the usual way: pad_sequence, then
# pack_padded_sequence(enforce_sorted=False) into a bidirectional GRU, pad_packed_sequence back, and the
# last layer's h_n of both directions into a linear head.
import torch
import torch.nn as nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence, pad_sequence

torch.manual_seed(0)
VOCAB, EMB, HID, CLASSES = 20, 8, 12, 3
lengths = [5, 2, 7, 3, 6, 1, 4, 7]
seqs = [torch.randint(1, VOCAB, (n,)) for n in lengths]
labels = torch.tensor([n % CLASSES for n in lengths])


class Classifier(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(VOCAB, EMB, padding_idx=0)
        self.gru = nn.GRU(EMB, HID, num_layers=2, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(2 * HID, CLASSES)

    def forward(self, padded, lengths):
        embedded = self.embedding(padded)
        packed = pack_padded_sequence(embedded, lengths, batch_first=True, enforce_sorted=False)
        packed_out, h_n = self.gru(packed)
        out, out_lengths = pad_packed_sequence(packed_out, batch_first=True)
        hidden = torch.cat((h_n[-2], h_n[-1]), dim=1)
        return self.fc(hidden), out, out_lengths


model = Classifier()
optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
criterion = nn.CrossEntropyLoss()
padded = pad_sequence(seqs, batch_first=True)
lengths_t = torch.tensor(lengths)
losses = []
for epoch in range(30):
    optimizer.zero_grad()
    logits, out, out_lengths = model(padded, lengths_t)
    loss = criterion(logits, labels)
    loss.backward()
    optimizer.step()
    losses.append(loss.item())
    if epoch % 10 == 0:
        print(epoch, loss.item(), out.shape, out_lengths.tolist())

with torch.no_grad():
    logits, out, _ = model(padded, lengths_t)
    predicted = logits.argmax(dim=1)
    accuracy = (predicted == labels).float().mean().item()
    padding_is_zero = bool((out[1, 2:] == 0).all())
print("accuracy", accuracy)
