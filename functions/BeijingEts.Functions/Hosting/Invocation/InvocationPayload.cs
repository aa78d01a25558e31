namespace BeijingEts.Functions.Hosting.Invocation;

/// <summary>What the Functions host posts to a custom handler at /{FunctionName}.</summary>
public sealed record InvocationRequest(
    [property: JsonPropertyName("Data")] Dictionary<string, JsonElement>? Data,
    [property: JsonPropertyName("Metadata")] Dictionary<string, JsonElement>? Metadata);

/// <summary>What a custom handler answers: output bindings, log lines for the host, and a return value.</summary>
public sealed record InvocationResponse(
    [property: JsonPropertyName("Outputs")] Dictionary<string, object?> Outputs,
    [property: JsonPropertyName("Logs")] List<string> Logs,
    [property: JsonPropertyName("ReturnValue")] object? ReturnValue);

/// <summary>The binding names our function.json files use, and so the keys of Data.</summary>
public static class BindingNames
{
    public const string QueueMessage = "message";
    public const string Timer = "timer";
}
