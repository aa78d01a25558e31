using System.Diagnostics;

namespace BeijingEts.Functions.Tests.Infrastructure;

/// <summary>The repository checkout the tests run from, and a way to run its scripts as a person would.</summary>
public static class Repository
{
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "BeijingEts.Functions.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("The tests do not run inside the repository checkout.");
    }

    public static Task<(int ExitCode, string StdOut, string StdErr)> RunScriptAsync(string script, IEnumerable<string> arguments, IDictionary<string, string>? environment = null, TimeSpan? timeout = null) =>
        RunAsync("bash", arguments.Prepend(Path.Combine(Root, "scripts", script)), environment, timeout);

    /// <summary>Runs a program from the repository root and collects what it printed.</summary>
    public static async Task<(int ExitCode, string StdOut, string StdErr)> RunAsync(string program, IEnumerable<string> arguments, IDictionary<string, string>? environment = null, TimeSpan? timeout = null)
    {
        var start = new ProcessStartInfo(program) { WorkingDirectory = Root, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments) start.ArgumentList.Add(argument);
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(cancel.Token);
        return (process.ExitCode, await stdout, await stderr);
    }
}
