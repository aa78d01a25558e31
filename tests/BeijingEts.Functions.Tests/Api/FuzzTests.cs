using System.Text;
using System.Text.RegularExpressions;
using BeijingEts.Functions.Auth;

namespace BeijingEts.Functions.Tests.Api;

/// <summary>The one-unit app with every queue and timer function and the blob scanner off, so that only a request can write.</summary>
public sealed class FuzzFixture : OneUnitFixture
{
    protected override IDictionary<string, string?> Settings
    {
        get
        {
            var settings = FunctionCatalog.Discover(typeof(EtsApp).Assembly).Functions
                .ToDictionary(f => $"AzureWebJobs:{f.Name}:Disabled", _ => (string?)"true");
            settings["Ets:BlobScanDisabled"] = "true";
            return settings;
        }
    }
}

/// <summary>
/// Hostile input on every endpoint of the OpenAPI document, from each role that may call it: never a 5xx, every
/// refusal a problem document, and not one entity, blob or queue message written. A fixed set of cases per endpoint.
/// </summary>
[Collection(nameof(Market.RunsAlone))]
public sealed class FuzzTests(FuzzFixture app) : IClassFixture<FuzzFixture>
{
    private static readonly string Overlong = new('x', 20_000);

    /// <summary>Route and query values, as they go into the URL (already escaped where they are escapes).</summary>
    private static readonly string[] HostileSegments =
    [
        "..", "%2e%2e", "..%2f..%2fetc", "%00", "a%00b", "open-1", "-1", "99999999999999999999", new string('x', 300),
        "%F0%9F%98%80%E2%80%AE%EF%BB%BF", "%20", "a%2Fb", "2026-02-30", "%ED%A0%80",
    ];

    /// <summary>Endpoints that read a file from the body without declaring it (so routing does not answer a bare 415).</summary>
    private static readonly string[] FileEndpoints = ["POST /api/lists/{year}/statistics"];

    /// <summary>Bodies whose every field has a default, so that {} is a whole request: the Art. 6 thresholds of the Measures.</summary>
    private static readonly string[] WholeWhenEmpty = ["PUT /api/lists/rules/{fromYear}"];

    private static readonly string[] BodyKinds = ["missing", "extra", "null", "wrongType", "negative", "huge", "overlong", "unicode", "dots", "open"];

    [Fact]
    public async Task HostileBodies_NeverGive5xxNorWrite()
    {
        var document = await ApiEndpoints.DocumentAsync(app);
        var before = await StorageSnapshot.TakeAsync(app.Storage, app.Prefix);
        var wrong = new List<string>();
        // A command without a body (publish, start) does its work whatever is sent with it: only endpoints that read one.
        foreach (var endpoint in app.Endpoints.Where(e => e.Operation.TryGetProperty("requestBody", out _) || FileEndpoints.Contains(e.Key)))
        {
            var schema = JsonBodySchema(document, endpoint.Operation);
            var bodies = new List<(string Name, Func<HttpContent> Content)>
            {
                ("malformed JSON", () => Json("{\"a\":")),
                ("array", () => Json("[1,2,3]")),
                ("string", () => Json("\"text\"")),
                ("garbage CSV", () => new StringContent("a,b\n\"unterminated,\u0000\n", Encoding.UTF8, "text/csv")),
                ("garbage XLSX", () => new ByteArrayContent([0x50, 0x4B, 0x03, 0x04, 0x14, 0x00, 0x08, 0x00, 0xFF, 0xFF])
                    { Headers = { ContentType = new("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet") } }),
            };
            if (schema is { } properties)
            {
                var kinds = BodyKinds.Where(kind => kind != "missing" || !WholeWhenEmpty.Contains(endpoint.Key));
                bodies.AddRange(kinds.Select(kind => (kind, (Func<HttpContent>)(() => Json(Body(document, properties, kind))))));
                // One number out of range in an otherwise plausible body, so that the check of that number is what must refuse it.
                foreach (var number in properties.EnumerateObject().Where(p => TypeOf(document, p.Value) is "integer" or "number"))
                {
                    // 1.5 is a price in yuan but no number of tonnes or year.
                    string[] values = TypeOf(document, number.Value) == "integer" ? ["-1", "0", "99999999999999999999999", "1.5"] : ["-1", "0", "99999999999999999999999", "1e400"];
                    foreach (var value in values)
                    {
                        bodies.Add(($"{number.Name}={value}", () => Json(PlausibleBody(document, properties, number.Name, value))));
                    }
                }
            }
            foreach (var client in Callers(endpoint))
            {
                foreach (var (name, content) in bodies)
                {
                    var request = new HttpRequestMessage(new HttpMethod(endpoint.Method), endpoint.Fill(app.RouteValue)) { Content = content() };
                    await CheckAsync(client, request, $"{endpoint.Key} body {name}", wrong);
                }
            }
        }
        await AssertNothingWrittenAsync(before, wrong);
    }

    [Fact]
    public async Task HostileRouteAndQueryValues_NeverGive5xxNorWrite()
    {
        var before = await StorageSnapshot.TakeAsync(app.Storage, app.Prefix);
        var wrong = new List<string>();
        foreach (var endpoint in app.Endpoints)
        {
            var client = app.Caller(endpoint);
            foreach (var parameter in Regex.Matches(endpoint.Path, @"\{(\w+)\}").Select(m => m.Groups[1].Value))
            {
                foreach (var hostile in HostileSegments)
                {
                    var url = endpoint.Fill(name => name == parameter ? "\u0001" : app.RouteValue(name)).Replace("%01", hostile, StringComparison.Ordinal);
                    await CheckAsync(client, Request(endpoint.Method, url), $"{endpoint.Key} {parameter}={hostile}", wrong);
                }
            }
            foreach (var parameter in QueryParameters(endpoint.Operation))
            {
                foreach (var hostile in HostileSegments.Append(""))
                {
                    var url = endpoint.Fill(app.RouteValue) + $"?{parameter}={hostile}";
                    await CheckAsync(client, Request(endpoint.Method, url), $"{endpoint.Key} ?{parameter}={hostile}", wrong);
                }
            }
        }
        await AssertNothingWrittenAsync(before, wrong);
    }

    private IEnumerable<HttpClient> Callers(ApiEndpoint endpoint) =>
        endpoint.Rule!.IsAnonymous ? [app.Client()] : endpoint.Rule.Roles.Select(app.InScope);

    /// <summary>A body the handler must refuse: a field it does not know, so any body-less command stays a no-op.</summary>
    private static HttpRequestMessage Request(string method, string url) => new(new HttpMethod(method), url)
    {
        Content = method is "POST" or "PUT" or "PATCH" ? Json("{\"zzUnexpected\": 1}") : null,
    };

    private static async Task CheckAsync(HttpClient client, HttpRequestMessage request, string what, List<string> wrong)
    {
        using var response = await client.SendAsync(request, TestContext.Current.CancellationToken);
        var status = (int)response.StatusCode;
        if (status == 400 && request.RequestUri!.OriginalString.Contains("%00", StringComparison.Ordinal) && response.Content.Headers.ContentLength == 0)
        {
            return; // Kestrel refuses a NUL in the request target itself, before any middleware: nothing of the app runs.
        }
        if (status is >= 200 and < 300 && request.Method != HttpMethod.Get)
        {
            wrong.Add($"{what}: accepted with {status}");
        }
        else if (status >= 500)
        {
            wrong.Add($"{what}: {status} {Truncate(await response.Content.ReadAsStringAsync())}");
        }
        else if (status >= 400 && response.Content.Headers.ContentType?.MediaType != "application/problem+json")
        {
            wrong.Add($"{what}: {status} without a problem document");
        }
    }

    private async Task AssertNothingWrittenAsync(StorageSnapshot before, List<string> wrong)
    {
        var changes = (await StorageSnapshot.TakeAsync(app.Storage, app.Prefix)).ChangesSince(before);
        Assert.True(wrong.Count == 0 && changes.Count == 0,
            $"{wrong.Count} bad answers:\n{string.Join("\n", wrong.Take(400))}\n{changes.Count} writes:\n{string.Join("\n", changes.Take(60))}");
    }

    private static string Truncate(string text) => text.Length > 300 ? text[..300] : text;

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static IEnumerable<string> QueryParameters(JsonElement operation) =>
        operation.TryGetProperty("parameters", out var parameters)
            ? parameters.EnumerateArray().Where(p => p.TryGetProperty("in", out var place) && place.GetString() == "query").Select(p => p.GetProperty("name").GetString()!)
            : [];

    /// <summary>The properties of the operation's JSON body, or null when it takes none.</summary>
    private static JsonElement? JsonBodySchema(JsonElement document, JsonElement operation) =>
        BodySchema(document, operation) is { } schema && schema.TryGetProperty("properties", out var properties) ? properties : null;

    private static JsonElement? BodySchema(JsonElement document, JsonElement operation)
    {
        if (!operation.TryGetProperty("requestBody", out var body) || !body.TryGetProperty("content", out var content)
            || !content.TryGetProperty("application/json", out var json) || !json.TryGetProperty("schema", out var schema)) return null;
        return Resolve(document, schema);
    }

    private static JsonElement Resolve(JsonElement document, JsonElement schema)
    {
        while (schema.TryGetProperty("$ref", out var reference))
        {
            var target = document;
            foreach (var part in reference.GetString()!.TrimStart('#', '/').Split('/')) target = target.GetProperty(part);
            schema = target;
        }
        return schema;
    }

    private static string TypeOf(JsonElement document, JsonElement property)
    {
        property = Resolve(document, property);
        if (!property.TryGetProperty("type", out var type)) return property.TryGetProperty("properties", out _) ? "object" : "string";
        return type.ValueKind == JsonValueKind.Array
            ? type.EnumerateArray().Select(t => t.GetString()!).FirstOrDefault(t => t != "null") ?? "string"
            : type.GetString()!;
    }

    /// <summary>An object with every property of the body set to the kind's hostile value for its type.</summary>
    private static string Body(JsonElement document, JsonElement properties, string kind)
    {
        if (kind == "missing") return "{}";
        if (kind == "extra") return "{\"zzUnexpected\": 1}";
        var fields = properties.EnumerateObject().Select(p => $"{JsonSerializer.Serialize(p.Name)}: {Value(kind, TypeOf(document, p.Value))}");
        return "{" + string.Join(", ", fields) + "}";
    }

    /// <summary>Every property a plausible value (the registered unit for a party), but <paramref name="field"/> the raw JSON <paramref name="value"/>.</summary>
    private string PlausibleBody(JsonElement document, JsonElement properties, string field, string value)
    {
        var fields = properties.EnumerateObject().Select(p => $"{JsonSerializer.Serialize(p.Name)}: {(p.Name == field ? value : Plausible(p.Name, Resolve(document, p.Value), TypeOf(document, p.Value)))}");
        return "{" + string.Join(", ", fields) + "}";
    }

    private string Plausible(string name, JsonElement schema, string type)
    {
        var format = schema.TryGetProperty("format", out var f) ? f.GetString() : null;
        return (type, format, name.ToLowerInvariant()) switch
        {
            ("integer", _, "vintage" or "year") => "2026",
            ("integer" or "number", _, _) => "10",
            ("boolean", _, _) => "false",
            ("array", _, _) => "[]",
            ("string", "date", _) => "\"2026-01-05\"",
            ("string", "date-time", _) => "\"2026-01-05T10:00:00+08:00\"",
            ("string", _, "product") => "\"BEA\"",
            ("string", _, "side") => "\"buy\"",
            ("string", _, "uscc" or "buyer" or "seller" or "unit" or "a" or "b" or "from" or "to" or "successor" or "participant") => $"\"{app.OtherUscc}\"",
            ("string", _, _) => "\"fuzz-1\"",
            _ => "{}",
        };
    }

    private static string Value(string kind, string type) => (kind, type) switch
    {
        ("null", _) => "null",
        ("wrongType", "integer" or "number") => "\"ten\"",
        ("wrongType", "string") => "12345",
        ("wrongType", "boolean") => "\"yes\"",
        ("wrongType", "array") => "{\"x\": 1}",
        ("wrongType", _) => "[1]",
        ("negative", "integer" or "number") => "-1",
        ("huge", "integer") => "99999999999999999999999",
        ("huge", "number") => "1e400",
        ("huge", "string") => "\"" + new string('9', 40) + "\"",
        (_, "string") => kind switch
        {
            "overlong" => "\"" + Overlong + "\"",
            "unicode" => "\"\\u0000\\u202E\\uFEFF\\uD83D\\uDE00\\uD800\"",
            "dots" => "\"../../etc/passwd\"",
            "open" => "\"open-1\"",
            _ => "\"-1\"",
        },
        (_, "integer" or "number") => "0",
        (_, "boolean") => "false",
        (_, "array") => "[]",
        _ => "{}",
    };
}
