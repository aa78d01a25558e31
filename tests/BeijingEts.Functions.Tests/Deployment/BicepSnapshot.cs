using System.Text.Json.Nodes;

namespace BeijingEts.Functions.Tests.Deployment;

/// <summary>
/// What a deployment of infra/main.bicep with these parameters would create: <c>bicep snapshot</c> evaluates the template
/// as Azure does (parameters, conditions, loops, variables, fail()), leaving only values Azure knows after creating a
/// resource as reference() expressions. Each set of parameters is evaluated once per test run.
/// </summary>
public sealed class BicepSnapshot
{
    public const string SubscriptionId = "11111111-1111-1111-1111-111111111111";
    public const string TenantId = "22222222-2222-2222-2222-222222222222";

    public required int ExitCode { get; init; }
    public required string Output { get; init; }
    public required JsonArray Resources { get; init; }
    public required JsonObject Outputs { get; init; }

    /// <summary>The parameters every snapshot has; each test adds its own (Bicep literals, e.g. <c>'text'</c> or <c>['a']</c>).</summary>
    private static readonly Dictionary<string, string> Required = new() { ["environmentName"] = "'test'", ["authAudience"] = "'api://beijing-ets'" };

    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<Task<BicepSnapshot>>> Taken = new();

    public static Task<BicepSnapshot> TakeAsync(IReadOnlyDictionary<string, string> parameters)
    {
        var all = new SortedDictionary<string, string>(Required, StringComparer.Ordinal);
        foreach (var (name, value) in parameters) all[name] = value;
        var text = string.Join('\n', all.Select(p => $"param {p.Key} = {p.Value}"));
        return Taken.GetOrAdd(text, t => new Lazy<Task<BicepSnapshot>>(() => RunAsync(t))).Value;
    }

    private static async Task<BicepSnapshot> RunAsync(string parameters)
    {
        var directory = Directory.CreateTempSubdirectory("bicep-snapshot-").FullName;
        var main = Path.GetRelativePath(directory, Path.Combine(Repository.Root, "infra", "main.bicep")).Replace('\\', '/');
        var file = Path.Combine(directory, "main.bicepparam");
        await File.WriteAllTextAsync(file, $"using '{main}'\n{parameters}\n");
        var run = await Repository.RunAsync(BicepTemplate.BicepPath,
            ["snapshot", file, "--mode", "overwrite", "--subscription-id", SubscriptionId, "--tenant-id", TenantId, "--resource-group", "rg-ets", "--location", "chinanorth3"],
            timeout: TimeSpan.FromMinutes(3));
        var output = Path.Combine(directory, "main.snapshot.json");
        var snapshot = run.ExitCode == 0 && File.Exists(output) ? JsonNode.Parse(await File.ReadAllTextAsync(output))!.AsObject() : [];
        Directory.Delete(directory, recursive: true);
        return new BicepSnapshot
        {
            ExitCode = run.ExitCode,
            Output = run.StdOut + run.StdErr,
            Resources = snapshot["predictedResources"]?.AsArray() ?? [],
            Outputs = snapshot["outputs"]?.AsObject() ?? [],
        };
    }

    public IEnumerable<JsonObject> All(string type) => Resources.Select(r => r!.AsObject()).Where(r => r["type"]!.GetValue<string>() == type);

    public JsonObject Single(string type) => Assert.Single(All(type));

    /// <summary>The function app's settings, by name.</summary>
    public IReadOnlyDictionary<string, string> AppSettings() =>
        Single("Microsoft.Web/sites")["properties"]!["siteConfig"]!["appSettings"]!.AsArray()
            .ToDictionary(s => s!["name"]!.GetValue<string>(), s => s!["value"]!.GetValue<string>());

    public static IReadOnlyList<string> Strings(JsonNode? array) => array!.AsArray().Select(v => v!.GetValue<string>()).ToList();
}
