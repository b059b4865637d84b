using System.Globalization;

namespace PolyLoss.Cli;

/// <summary>Parsed options of one command: <c>--name value</c>, <c>--name=value</c> and flags.</summary>
internal sealed class Args
{
    private readonly Dictionary<string, string> _values = new(StringComparer.Ordinal);
    private readonly HashSet<string> _flags = new(StringComparer.Ordinal);

    private Args(string command) => Command = command;

    /// <summary>The command name (for messages).</summary>
    public string Command { get; }

    /// <summary>Parses <paramref name="args"/> given the options that take a value and the flags.</summary>
    /// <exception cref="UsageException">Unknown option, missing value, repeated option or stray argument.</exception>
    public static Args Parse(string command, IReadOnlyList<string> args, IReadOnlyCollection<string> valueOptions, IReadOnlyCollection<string> flags)
    {
        var a = new Args(command);
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal) || arg.Length == 2)
                throw new UsageException($"{command}: unexpected argument '{arg}'");
            string name = arg[2..];
            string? value = null;
            int eq = name.IndexOf('=');
            if (eq >= 0)
            {
                value = name[(eq + 1)..];
                name = name[..eq];
            }
            if (flags.Contains(name))
            {
                if (value is not null) throw new UsageException($"{command}: --{name} takes no value");
                a._flags.Add(name);
                continue;
            }
            if (!valueOptions.Contains(name)) throw new UsageException($"{command}: unknown option --{name} (see 'polyloss {command} --help')");
            if (value is null)
            {
                if (i + 1 >= args.Count || (args[i + 1].StartsWith("--", StringComparison.Ordinal) && args[i + 1].Length > 2))
                    throw new UsageException($"{command}: --{name} needs a value");
                value = args[++i];
            }
            if (!a._values.TryAdd(name, value)) throw new UsageException($"{command}: --{name} given twice");
        }
        return a;
    }

    /// <summary>True when the flag was given.</summary>
    public bool Has(string flag) => _flags.Contains(flag);

    /// <summary>The option's value, or null.</summary>
    public string? Get(string name) => _values.GetValueOrDefault(name);

    /// <summary>The option's value.</summary>
    /// <exception cref="UsageException">Not given.</exception>
    public string Require(string name) => Get(name) ?? throw new UsageException($"{Command}: --{name} is required");

    /// <summary>The option as a finite number, or <paramref name="fallback"/>.</summary>
    public double GetDouble(string name, double fallback)
    {
        string? s = Get(name);
        return s is null ? fallback : ParseDouble(name, s);
    }

    /// <summary>The option as an integer within [min, max], or <paramref name="fallback"/>.</summary>
    public int GetInt(string name, int fallback, int min, int max)
    {
        string? s = Get(name);
        if (s is null) return fallback;
        if (!int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) || v < min || v > max)
            throw new UsageException($"{Command}: --{name} must be an integer in {min}..{max}, got '{s}'");
        return v;
    }

    /// <summary>Parses a finite number for option <paramref name="name"/>.</summary>
    public double ParseDouble(string name, string s)
    {
        if (!double.TryParse(s.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out double v) || !double.IsFinite(v))
            throw new UsageException($"{Command}: --{name} must be a finite number, got '{s}'");
        return v;
    }

    /// <summary>Parses a comma-separated list of finite numbers.</summary>
    public double[] GetDoubleList(string name, double[] fallback)
    {
        string? s = Get(name);
        if (s is null) return fallback;
        string[] parts = s.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length == 0 || parts.Any(p => p.Length == 0))
            throw new UsageException($"{Command}: --{name} must be a comma-separated list of numbers, got '{s}'");
        return parts.Select(p => ParseDouble(name, p)).ToArray();
    }
}
