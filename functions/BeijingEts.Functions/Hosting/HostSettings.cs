using System.Text.Json.Nodes;

namespace BeijingEts.Functions.Hosting;

/// <summary>host.json extensions.queues, with the Functions host's defaults for anything left out.</summary>
public sealed record QueueHostSettings(
    int BatchSize,
    int NewBatchThreshold,
    int MaxDequeueCount,
    TimeSpan VisibilityTimeout,
    TimeSpan MaxPollingInterval,
    QueueMessageEncoding MessageEncoding);

/// <summary>
/// The settings the local trigger runtime takes from host.json, the same file the Functions host reads in Azure.
/// </summary>
public sealed record HostSettings(QueueHostSettings Queues, TimeSpan FunctionTimeout, string RoutePrefix)
{
    public static HostSettings Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"host.json was not found at {path}; it is copied next to the app by the build.", path);
        }
        return Parse(File.ReadAllText(path));
    }

    public static HostSettings Parse(string json)
    {
        var root = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true })
            ?? throw new InvalidDataException("host.json is empty.");
        var queues = root["extensions"]?["queues"];
        var batchSize = Read(queues, "batchSize", 16, int.Parse);
        if (batchSize is < 1 or > 32)
        {
            throw new InvalidDataException($"host.json extensions.queues.batchSize is {batchSize}; it must be 1 to 32.");
        }
        var settings = new QueueHostSettings(
            batchSize,
            Read(queues, "newBatchThreshold", batchSize / 2, int.Parse),
            Read(queues, "maxDequeueCount", 5, int.Parse),
            Read(queues, "visibilityTimeout", TimeSpan.Zero, ParseTimeSpan),
            Read(queues, "maxPollingInterval", TimeSpan.FromMinutes(1), ParseTimeSpan),
            Read(queues, "messageEncoding", QueueMessageEncoding.Base64,
                s => s.Equals("none", StringComparison.OrdinalIgnoreCase) ? QueueMessageEncoding.None : QueueMessageEncoding.Base64));
        if (settings.MaxDequeueCount < 1)
        {
            throw new InvalidDataException("host.json extensions.queues.maxDequeueCount must be at least 1.");
        }
        return new HostSettings(
            settings,
            Read(root, "functionTimeout", TimeSpan.FromMinutes(30), ParseTimeSpan),
            Read(root["extensions"]?["http"], "routePrefix", "api", s => s));
    }

    private static T Read<T>(JsonNode? section, string name, T fallback, Func<string, T> parse)
    {
        var value = section?[name];
        return value is null ? fallback : parse(value.ToString());
    }

    private static TimeSpan ParseTimeSpan(string value) =>
        TimeSpan.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
}
