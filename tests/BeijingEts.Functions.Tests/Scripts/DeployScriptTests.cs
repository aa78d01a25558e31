using System.IO.Compression;

namespace BeijingEts.Functions.Tests.Scripts;

/// <summary>
/// deploy-azure.sh (azd's postprovision hook) against a stand-in for the Azure CLI that records what it was asked
/// and keeps the package: the zip is what the function app would run.
/// </summary>
[Collection(nameof(Publishes))]
public sealed class DeployScriptTests
{
    [Fact]
    public async Task Deploy_ZipsThePublishedAppWithItsExecutableBit_AndDeploysItToTheNamedApp()
    {
        var bin = Directory.CreateTempSubdirectory("fake-az-").FullName;
        var calls = Path.Combine(bin, "calls.txt");
        var kept = Path.Combine(bin, "deployed.zip");
        await File.WriteAllTextAsync(Path.Combine(bin, "az"), $$"""
            #!/usr/bin/env bash
            echo "$*" >> '{{calls}}'
            while [ $# -gt 0 ]; do [ "$1" = --src ] && cp "$2" '{{kept}}'; shift; done
            echo func-ets-test.azurewebsites.net
            """.Replace("\r", ""), TestContext.Current.CancellationToken);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(Path.Combine(bin, "az"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var (exit, _, stderr) = await Repository.RunScriptAsync("deploy-azure.sh", ["rg-ets", "func-ets-test"],
            new Dictionary<string, string> { ["PATH"] = $"{bin}:{Environment.GetEnvironmentVariable("PATH")}" }, TimeSpan.FromMinutes(8));

        Assert.True(exit == 0, stderr);
        Assert.Contains("functionapp deployment source config-zip --resource-group rg-ets --name func-ets-test --src", await File.ReadAllTextAsync(calls, TestContext.Current.CancellationToken));
        Assert.Contains("https://func-ets-test.azurewebsites.net/api/health", stderr);
        using var zip = ZipFile.OpenRead(kept);
        var entries = zip.Entries.ToDictionary(e => e.FullName.Replace('\\', '/'));
        Assert.Contains("host.json", entries.Keys);
        var executable = entries["BeijingEts.Functions"];
        Assert.True(((executable.ExternalAttributes >> 16) & 0b001_000_000) != 0, "the custom handler executable keeps its owner execute bit");
        var catalog = FunctionCatalog.Discover(typeof(EtsApp).Assembly);
        foreach (var function in catalog.Functions.Select(f => f.Name).Append(FunctionCatalog.HttpFunctionName))
        {
            Assert.Contains($"{function}/function.json", entries.Keys);
        }
    }

    [Fact]
    public async Task Deploy_WithoutAnAppToDeployTo_SaysWhatToGive()
    {
        var (exit, _, stderr) = await Repository.RunScriptAsync("deploy-azure.sh", [],
            new Dictionary<string, string> { ["AZURE_RESOURCE_GROUP"] = "", ["FUNCTION_APP_NAME"] = "" });

        Assert.NotEqual(0, exit);
        Assert.Contains("FUNCTION_APP_NAME", stderr);
    }
}
