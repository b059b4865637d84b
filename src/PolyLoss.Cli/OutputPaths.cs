namespace PolyLoss.Cli;

/// <summary>Checks on output paths: known extension, distinct from each other and never one of the inputs.</summary>
internal static class OutputPaths
{
    /// <summary>Validates the outputs against the inputs.</summary>
    /// <exception cref="UsageException">Bad extension, an output equal to an input, or two equal outputs.</exception>
    public static void Check(IReadOnlyList<(string Option, string? Path)> outputs, IReadOnlyList<string> inputs)
    {
        var seen = new List<(string Option, string Full)>();
        foreach ((string option, string? path) in outputs)
        {
            if (path is null) continue;
            string ext = Path.GetExtension(path);
            if (!ext.Equals(".npy", StringComparison.OrdinalIgnoreCase) && !ext.Equals(".csv", StringComparison.OrdinalIgnoreCase))
                throw new UsageException($"{option} {path}: the file name must end in .npy or .csv");
            string full = Canonical(path);
            foreach (string input in inputs)
            {
                if (string.Equals(full, Canonical(input), StringComparison.Ordinal))
                    throw new UsageException($"{option} {path}: refusing to overwrite the input file {input}");
            }
            foreach ((string otherOption, string otherFull) in seen)
            {
                if (string.Equals(full, otherFull, StringComparison.Ordinal))
                    throw new UsageException($"{option} {path}: the same file as {otherOption}");
            }
            seen.Add((option, full));
        }
    }

    /// <summary>Full path with symbolic links resolved (as far as they exist).</summary>
    public static string Canonical(string path)
    {
        string full = Path.GetFullPath(path);
        try
        {
            var fi = new FileInfo(full);
            if (fi.Exists && fi.LinkTarget is not null)
                return fi.ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? full;
            string? dir = Path.GetDirectoryName(full);
            if (dir is not null && Directory.Exists(dir))
            {
                var di = new DirectoryInfo(dir);
                string real = di.LinkTarget is not null ? di.ResolveLinkTarget(true)?.FullName ?? dir : dir;
                return Path.Combine(real, Path.GetFileName(full));
            }
        }
        catch (IOException)
        {
            // fall back to the plain full path
        }
        return full;
    }
}
