# Probe 14: a Solver class keeps the scheduler on `self` and steps it with the deprecated epoch argument.
#
# Source: soapisnotfat/pytorch-cifar10 issue #10 ("self.scheduler.step() in () should not have epoch":
#   "self.scheduler.step() not self.scheduler.step(epoch)") against main.py's `Solver.run()`; same fix in
#   yoshida-lab/XenonPy PR #216 and yoshitomo-matsubara/torchdistill PR #338 ("epoch arg is deprecated for
#   some LR schedulers"). torch: LRScheduler.step(epoch) emits
#   "The epoch parameter in `scheduler.step()` was not necessary and is being deprecated where possible"
#   (EPOCH_DEPRECATION_WARNING) and switches to `_get_closed_form_lr` when available.
# Bug: the deprecated form; with chainable schedulers it also mixes closed-form and recursive updates
#   (pytorch/pytorch#20527 shows repeated step(2) calls decaying the LR again and again).
# Expected: LR302 at self.scheduler.step(epoch). (The call is after the epoch's training, so no LR101.)
import argparse

import torch
import torch.backends.cudnn as cudnn
import torch.nn as nn
import torch.optim as optim
import torchvision
import torchvision.transforms as transforms

CLASSES = ("plane", "car", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")


class Solver:
    def __init__(self, config):
        self.model = None
        self.lr = config.lr
        self.epochs = config.epoch
        self.train_batch_size = config.trainBatchSize
        self.test_batch_size = config.testBatchSize
        self.criterion = None
        self.optimizer = None
        self.scheduler = None
        self.device = None
        self.cuda = torch.cuda.is_available()
        self.train_loader = None
        self.test_loader = None

    def load_data(self):
        train_transform = transforms.Compose([transforms.RandomHorizontalFlip(), transforms.ToTensor()])
        test_transform = transforms.Compose([transforms.ToTensor()])
        train_set = torchvision.datasets.CIFAR10(root="./data", train=True, download=True, transform=train_transform)
        self.train_loader = torch.utils.data.DataLoader(dataset=train_set, batch_size=self.train_batch_size, shuffle=True)
        test_set = torchvision.datasets.CIFAR10(root="./data", train=False, download=True, transform=test_transform)
        self.test_loader = torch.utils.data.DataLoader(dataset=test_set, batch_size=self.test_batch_size, shuffle=False)

    def load_model(self):
        self.device = torch.device("cuda" if self.cuda else "cpu")
        if self.cuda:
            cudnn.benchmark = True
        self.model = torchvision.models.resnet18(num_classes=len(CLASSES)).to(self.device)
        self.optimizer = optim.Adam(self.model.parameters(), lr=self.lr)
        self.scheduler = optim.lr_scheduler.MultiStepLR(self.optimizer, milestones=[75, 150], gamma=0.5)
        self.criterion = nn.CrossEntropyLoss().to(self.device)

    def train(self):
        self.model.train()
        train_loss, train_correct, total = 0.0, 0, 0
        for batch_num, (data, target) in enumerate(self.train_loader):
            data, target = data.to(self.device), target.to(self.device)
            self.optimizer.zero_grad()
            output = self.model(data)
            loss = self.criterion(output, target)
            loss.backward()
            self.optimizer.step()
            train_loss += loss.item()
            prediction = torch.max(output, 1)
            total += target.size(0)
            train_correct += (prediction[1] == target).sum().item()
        return train_loss, train_correct / total

    def test(self):
        self.model.eval()
        test_loss, test_correct, total = 0.0, 0, 0
        with torch.no_grad():
            for data, target in self.test_loader:
                data, target = data.to(self.device), target.to(self.device)
                output = self.model(data)
                test_loss += self.criterion(output, target).item()
                test_correct += (output.argmax(1) == target).sum().item()
                total += target.size(0)
        return test_loss, test_correct / total

    def save(self):
        torch.save(self.model, "model.pth")

    def run(self):
        self.load_data()
        self.load_model()
        accuracy = 0
        for epoch in range(1, self.epochs + 1):
            print(f"\n===> epoch: {epoch}/{self.epochs}")
            train_result = self.train()
            print(train_result)
            test_result = self.test()
            self.scheduler.step(epoch)  # expect: LR302
            accuracy = max(accuracy, test_result[1])
            if epoch == self.epochs:
                print(f"===> BEST ACC. PERFORMANCE: {accuracy * 100:.3f}%")
                self.save()


def main():
    parser = argparse.ArgumentParser(description="cifar-10 with PyTorch")
    parser.add_argument("--lr", default=0.001, type=float)
    parser.add_argument("--epoch", default=200, type=int)
    parser.add_argument("--trainBatchSize", default=100, type=int)
    parser.add_argument("--testBatchSize", default=100, type=int)
    args = parser.parse_args()
    Solver(args).run()


if __name__ == "__main__":
    main()
