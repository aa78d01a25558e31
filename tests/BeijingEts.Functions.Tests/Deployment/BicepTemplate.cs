using System.Reflection;
using System.Text.Json.Nodes;

namespace BeijingEts.Functions.Tests.Deployment;

/// <summary>
/// infra/main.bicep compiled once per test run by the Bicep CLI restored from NuGet, as ARM JSON, with what its
/// linter said. Module templates are nested deployments; <see cref="Resources"/> walks into them.
/// </summary>
public sealed class BicepTemplate
{
    private static readonly Lazy<Task<BicepTemplate>> Compiled = new(CompileAsync);

    public static Task<BicepTemplate> LoadAsync() => Compiled.Value;

    public required JsonObject Main { get; init; }
    public required string BuildOutput { get; init; }
    public required string LintOutput { get; init; }
    public required int BuildExitCode { get; init; }
    public required int LintExitCode { get; init; }

    public static string BicepPath { get; } = (typeof(BicepTemplate).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "BicepPath").Value ?? "").Replace('\\', '/');

    private static async Task<BicepTemplate> CompileAsync()
    {
        var main = Path.Combine(Repository.Root, "infra", "main.bicep");
        var output = Path.Combine(Directory.CreateTempSubdirectory("bicep-").FullName, "main.json");
        var build = await Repository.RunAsync(BicepPath, ["build", main, "--outfile", output], timeout: TimeSpan.FromMinutes(3));
        var lint = await Repository.RunAsync(BicepPath, ["lint", main], timeout: TimeSpan.FromMinutes(3));
        return new BicepTemplate
        {
            Main = File.Exists(output) ? JsonNode.Parse(await File.ReadAllTextAsync(output))!.AsObject() : [],
            BuildOutput = build.StdOut + build.StdErr,
            LintOutput = lint.StdOut + lint.StdErr,
            BuildExitCode = build.ExitCode,
            LintExitCode = lint.ExitCode,
        };
    }

    /// <summary>The template of the module deployed under this name (main.bicep's module 'name').</summary>
    public JsonObject Module(string name) =>
        Items(Main).Single(r => Type(r) == "Microsoft.Resources/deployments" && r["name"]!.GetValue<string>() == name)["properties"]!["template"]!.AsObject();

    /// <summary>Every resource in the template and its modules, with the template that declares it.</summary>
    public IEnumerable<(JsonObject Resource, JsonObject Template)> Resources() => Walk(Main);

    public IEnumerable<JsonObject> Resources(string type) => Resources().Where(r => Type(r.Resource) == type).Select(r => r.Resource);

    private static IEnumerable<(JsonObject, JsonObject)> Walk(JsonObject template)
    {
        foreach (var resource in Items(template))
        {
            yield return (resource, template);
            if (Type(resource) == "Microsoft.Resources/deployments")
            {
                foreach (var nested in Walk(resource["properties"]!["template"]!.AsObject())) yield return nested;
            }
        }
    }

    private static IEnumerable<JsonObject> Items(JsonObject template) => template["resources"] switch
    {
        JsonArray array => array.Select(r => r!.AsObject()),
        JsonObject symbolic => symbolic.Select(p => p.Value!.AsObject()),
        _ => [],
    };

    public static string Type(JsonObject resource) => resource["type"]!.GetValue<string>();

    /// <summary>A template variable as strings (the lists of storage names and role ids).</summary>
    public static IReadOnlyList<string> StringList(JsonObject template, string variable) =>
        template["variables"]![variable]!.AsArray().Select(v => v!.GetValue<string>()).ToList();
}
