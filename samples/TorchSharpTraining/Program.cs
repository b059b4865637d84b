Console.WriteLine("TorchSharpTraining placeholder");
