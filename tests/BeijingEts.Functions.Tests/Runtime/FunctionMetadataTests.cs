using System.Text.Json.Nodes;
using BeijingEts.Functions.Uploads;

namespace BeijingEts.Functions.Tests.Runtime;

public sealed class FunctionMetadataTests
{
    private static string WriteAll(FunctionCatalog catalog)
    {
        var folder = Directory.CreateTempSubdirectory("functions-").FullName;
        FunctionMetadataWriter.Write(catalog, folder);
        return folder;
    }

    private static JsonObject Binding(string folder, string function) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(folder, function, "function.json")))!["bindings"]!.AsArray().Single()!.AsObject();

    [Fact]
    public void AppCatalog_GetsOneFunctionJsonPerFunctionPlusTheHttpCatchAllAndNothingElse()
    {
        var catalog = FunctionCatalog.Discover(typeof(EtsApp).Assembly);
        var folder = WriteAll(catalog);

        var written = Directory.GetDirectories(folder).Select(d => Path.GetFileName(d)!).Order().ToList();
        Assert.Equal(catalog.Functions.Select(f => f.Name).Append("Api").Order().ToList(), written);
        Assert.Contains(nameof(RecordBlobArrival), written);

        var arrival = Binding(folder, nameof(RecordBlobArrival));
        Assert.Equal("queueTrigger", arrival["type"]!.GetValue<string>());
        Assert.Equal("upload-events", arrival["queueName"]!.GetValue<string>());
        Assert.Equal("AzureWebJobsStorage", arrival["connection"]!.GetValue<string>());
        Assert.Equal("message", arrival["name"]!.GetValue<string>());

        var api = JsonNode.Parse(File.ReadAllText(Path.Combine(folder, "Api", "function.json")))!["bindings"]!.AsArray();
        Assert.Equal("httpTrigger", api[0]!["type"]!.GetValue<string>());
        Assert.Equal("{*route}", api[0]!["route"]!.GetValue<string>());
        Assert.Equal("http", api[1]!["type"]!.GetValue<string>());
    }

    [Fact]
    public void TimerAndQueueFunctions_GetTheirOwnTriggerBinding()
    {
        var catalog = new FunctionCatalog([
            FunctionCatalog.Describe(typeof(HourlyTimerFunction))!,
            FunctionCatalog.Describe(typeof(FlakyQueueFunction))!,
        ]);
        var folder = WriteAll(catalog);

        var timer = Binding(folder, nameof(HourlyTimerFunction));
        Assert.Equal("timerTrigger", timer["type"]!.GetValue<string>());
        Assert.Equal("0 0 * * * *", timer["schedule"]!.GetValue<string>());
        Assert.Equal("timer", timer["name"]!.GetValue<string>());
        var queue = Binding(folder, nameof(FlakyQueueFunction));
        Assert.Equal("queueTrigger", queue["type"]!.GetValue<string>());
        Assert.Equal("flaky", queue["queueName"]!.GetValue<string>());
        Assert.Equal(3, Directory.GetDirectories(folder).Length);
    }

    [Fact]
    public void TypeWithoutTrigger_IsNoFunction()
    {
        Assert.Null(FunctionCatalog.Describe(typeof(FunctionMetadataTests)));
    }

    [Fact]
    public void BadSchedule_FailsWhenTheFunctionIsDescribed()
    {
        Assert.ThrowsAny<Exception>(() => FunctionCatalog.Describe(typeof(BrokenScheduleFunction)));
    }

    [TimerTrigger("every hour")]
    private sealed class BrokenScheduleFunction : ITimerFunction
    {
        public Task RunAsync(TimerTriggerInfo timer, CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
