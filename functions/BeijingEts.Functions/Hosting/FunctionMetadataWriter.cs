using System.Text.Json.Nodes;
using BeijingEts.Functions.Hosting.Invocation;

namespace BeijingEts.Functions.Hosting;

/// <summary>
/// Writes the function.json files the Functions host reads: one per queue and timer function, named for it, and one
/// catch-all HTTP function that forwards every /api route to the app. Generated at publish time from the catalog.
/// </summary>
public static class FunctionMetadataWriter
{
    public static IReadOnlyList<string> Write(FunctionCatalog catalog, string outputDirectory)
    {
        var written = new List<string>();
        foreach (var (name, json) in Describe(catalog))
        {
            var folder = Path.Combine(outputDirectory, name);
            Directory.CreateDirectory(folder);
            var path = Path.Combine(folder, "function.json");
            File.WriteAllText(path, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
            written.Add(path);
        }
        return written;
    }

    public static IEnumerable<(string Name, JsonObject FunctionJson)> Describe(FunctionCatalog catalog)
    {
        yield return (FunctionCatalog.HttpFunctionName, Bindings(
            new JsonObject
            {
                ["type"] = "httpTrigger",
                ["direction"] = "in",
                ["name"] = "req",
                ["authLevel"] = "anonymous", // the app authenticates every request itself (JWT bearer)
                ["methods"] = new JsonArray("get", "post", "put", "patch", "delete", "head", "options"),
                ["route"] = "{*route}",
            },
            new JsonObject { ["type"] = "http", ["direction"] = "out", ["name"] = "res" }));
        foreach (var function in catalog.Functions.OrderBy(f => f.Name, StringComparer.Ordinal))
        {
            yield return (function.Name, function.Trigger switch
            {
                TriggerKind.Queue => Bindings(new JsonObject
                {
                    ["type"] = "queueTrigger",
                    ["direction"] = "in",
                    ["name"] = BindingNames.QueueMessage,
                    ["queueName"] = function.QueueName,
                    ["connection"] = StorageClients.ConnectionSetting,
                }),
                TriggerKind.Timer => Bindings(new JsonObject
                {
                    ["type"] = "timerTrigger",
                    ["direction"] = "in",
                    ["name"] = BindingNames.Timer,
                    ["schedule"] = function.Schedule,
                    ["useMonitor"] = true,
                }),
                _ => throw new InvalidOperationException($"Unknown trigger {function.Trigger}."),
            });
        }
    }

    private static JsonObject Bindings(params JsonObject[] bindings) => new() { ["bindings"] = new JsonArray(bindings) };
}
