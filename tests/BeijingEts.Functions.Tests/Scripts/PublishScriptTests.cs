using System.Text.Json.Nodes;

namespace BeijingEts.Functions.Tests.Scripts;

/// <summary>Tests that run dotnet publish on the app share its obj/ folder, so they take turns.</summary>
[CollectionDefinition(nameof(Publishes))]
public sealed class Publishes;

[Collection(nameof(Publishes))]
public sealed class PublishScriptTests
{
    [Fact]
    public async Task Publish_WritesTheAppHostJsonAndAFunctionJsonPerFunctionOnly()
    {
        var output = Directory.CreateTempSubdirectory("publish-").FullName;

        var (exit, _, stderr) = await Repository.RunScriptAsync("publish.sh", [output], timeout: TimeSpan.FromMinutes(8));

        Assert.True(exit == 0, stderr);
        Assert.True(File.Exists(Path.Combine(output, "BeijingEts.Functions")), "the self-contained executable host.json names");
        var hostJson = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(output, "host.json"), TestContext.Current.CancellationToken))!;
        Assert.Equal("BeijingEts.Functions", hostJson["customHandler"]!["description"]!["defaultExecutablePath"]!.GetValue<string>());

        var catalog = FunctionCatalog.Discover(typeof(EtsApp).Assembly);
        var expected = catalog.Functions.Select(f => f.Name).Append(FunctionCatalog.HttpFunctionName).Order().ToList();
        var withFunctionJson = Directory.GetFiles(output, "function.json", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(output, Path.GetDirectoryName(f)!)).Order().ToList();
        Assert.Equal(expected, withFunctionJson);
        // The host treats every top-level folder as a function; there must be no others.
        Assert.Equal(expected, Directory.GetDirectories(output).Select(d => Path.GetFileName(d)!).Order().ToList());

        foreach (var function in catalog.Functions)
        {
            var binding = JsonNode.Parse(await File.ReadAllTextAsync(Path.Combine(output, function.Name, "function.json"), TestContext.Current.CancellationToken))!["bindings"]!.AsArray().Single()!;
            Assert.Equal(function.Trigger == TriggerKind.Queue ? "queueTrigger" : "timerTrigger", binding["type"]!.GetValue<string>());
        }
    }
}
