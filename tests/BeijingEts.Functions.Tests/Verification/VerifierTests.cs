using BeijingEts.Functions.Tests.Lists;

namespace BeijingEts.Functions.Tests.Verification;

public sealed class VerifierFixture : EtsAppFixture;

/// <summary>Art. 24: which verification bodies may verify which unit.</summary>
public sealed class VerifierTests(VerifierFixture app) : IClassFixture<VerifierFixture>
{
    private readonly HttpClient _regulator = app.Client("regulator");
    private CancellationToken Ct => TestContext.Current.CancellationToken;

    private static object Body(bool registeredInPrc = true, bool withDocuments = true, bool mostlyFullTime = true, int leadYears = 5, int secondYears = 2) => new
    {
        name = "北京某核查机构",
        registeredInPrc,
        independentLegalPerson = true,
        fixedOffice = true,
        qualityManagement = withDocuments ? new[] { "QM-2024-01 personnel", "QM-2024-02 impartiality" } : [],
        ghgExperience = withDocuments ? new[] { "2023 Beijing verification of 12 units" } : [],
        staff = new object[]
        {
            new { id = "lead", name = "李", fullTime = true, experienceYears = new Dictionary<string, int> { ["cement"] = leadYears } },
            new { id = "second", name = "王", fullTime = mostlyFullTime, experienceYears = new Dictionary<string, int> { ["cement"] = secondYears } },
            new { id = "third", name = "赵", fullTime = false, experienceYears = new Dictionary<string, int> { ["power"] = 4 } },
        },
    };

    private async Task<string> VerifierAsync(object body)
    {
        var uscc = TestUnits.NewUscc();
        var put = await _regulator.PutAsJsonAsync($"/api/verifiers/{uscc}", body, Ct);
        Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync(Ct));
        return uscc;
    }

    private async Task<JsonElement> EligibilityAsync(HttpClient client, string verifier, string unit, string lead = "lead") =>
        await client.GetFromJsonAsync<JsonElement>($"/api/verifiers/{verifier}/eligibility?unit={unit}&year=2025&leadVerifier={lead}", Ct);

    private static DateOnly Today => DateOnly.FromDateTime(DateTimeOffset.UtcNow.ToOffset(TimeSpan.FromHours(8)).DateTime);

    [Fact]
    public async Task ABodyMeetingArt24_IsEligible_AsTheUnitSeesIt()
    {
        var unit = await TestUnits.RegisterAsync(_regulator, industry: "cement");
        var verifier = await VerifierAsync(Body());

        var answer = await EligibilityAsync(app.Client("unit", unit), verifier, unit);

        Assert.True(answer.GetProperty("eligible").GetBoolean(), answer.ToString());
        Assert.Empty(answer.GetProperty("failures").EnumerateArray());
    }

    [Fact]
    public async Task EveryFailedCondition_IsNamed()
    {
        var unit = await TestUnits.RegisterAsync(_regulator, industry: "cement");
        var verifier = await VerifierAsync(Body(registeredInPrc: false, withDocuments: false, mostlyFullTime: false, secondYears: 0));
        var related = await _regulator.PostAsJsonAsync($"/api/verifiers/{verifier}/relationships",
            new { unit, service = "testing", from = Today.AddYears(-3).ToString("yyyy-MM-dd"), to = Today.AddYears(-1).ToString("yyyy-MM-dd") }, Ct);
        Assert.Equal(HttpStatusCode.Created, related.StatusCode);

        var answer = await EligibilityAsync(_regulator, verifier, unit, lead: "second");

        Assert.False(answer.GetProperty("eligible").GetBoolean());
        var failures = answer.GetProperty("failures").EnumerateArray().Select(f => f.GetString()!).ToList();
        Assert.Contains(failures, f => f.StartsWith("Art. 24 (1)") && f.Contains("registered"));
        Assert.Contains(failures, f => f.StartsWith("Art. 24 (2)"));
        Assert.Contains(failures, f => f.StartsWith("Art. 24 (3)"));
        Assert.Contains(failures, f => f.Contains("1 verifier(s) with cement experience"));
        Assert.Contains(failures, f => f.Contains("lead verifier second has 0 year(s)"));
        Assert.Contains(failures, f => f.Contains("mostly full-time; 1 of 3"));
        Assert.Contains(failures, f => f.StartsWith("Art. 24 (5)") && f.Contains("testing"));
        Assert.Equal(7, failures.Count);
    }

    [Fact]
    public async Task ARelationshipEndedOverTwoYearsAgo_NoLongerBars()
    {
        var unit = await TestUnits.RegisterAsync(_regulator, industry: "cement");
        var verifier = await VerifierAsync(Body());
        await _regulator.PostAsJsonAsync($"/api/verifiers/{verifier}/relationships",
            new { unit, service = "management", from = Today.AddYears(-5).ToString("yyyy-MM-dd"), to = Today.AddYears(-2).AddDays(-1).ToString("yyyy-MM-dd") }, Ct);

        Assert.True((await EligibilityAsync(_regulator, verifier, unit)).GetProperty("eligible").GetBoolean());
        var record = await _regulator.GetFromJsonAsync<JsonElement>($"/api/verifiers/{verifier}", Ct);
        Assert.Equal("management", record.GetProperty("relationships")[0].GetProperty("service").GetString());
    }

    [Fact]
    public async Task ABodysRelationships_AreReadOnlyByThoseTheyConcern_AndEligibilityOnlyForVisibleUnits()
    {
        var chaoyang = await TestUnits.RegisterAsync(_regulator, district: "朝阳区");
        var haidian = await TestUnits.RegisterAsync(_regulator, district: "海淀区");
        var verifier = await VerifierAsync(Body());
        var other = await VerifierAsync(Body());
        foreach (var unit in new[] { chaoyang, haidian })
        {
            var added = await _regulator.PostAsJsonAsync($"/api/verifiers/{verifier}/relationships",
                new { unit, service = "testing", from = Today.AddYears(-6).ToString("yyyy-MM-dd"), to = Today.AddYears(-5).ToString("yyyy-MM-dd") }, Ct);
            Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        }
        async Task<List<string>> RelatedAsync(HttpClient client) =>
            (await client.GetFromJsonAsync<JsonElement>($"/api/verifiers/{verifier}", Ct)).GetProperty("relationships").EnumerateArray().Select(r => r.GetProperty("unit").GetString()!).Order().ToList();

        Assert.Equal([chaoyang], await RelatedAsync(app.Client("unit", chaoyang)));
        Assert.Equal([haidian], await RelatedAsync(app.Client("district", "海淀区")));
        Assert.Equal(new[] { chaoyang, haidian }.Order(), await RelatedAsync(app.Client("verifier", verifier)));
        Assert.Equal(new[] { chaoyang, haidian }.Order(), await RelatedAsync(_regulator));
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client("verifier", other).GetAsync($"/api/verifiers/{verifier}", Ct)).StatusCode);

        var eligibility = $"/api/verifiers/{verifier}/eligibility?year=2025&leadVerifier=lead&unit=";
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client("unit", chaoyang).GetAsync(eligibility + haidian, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.Client("district", "海淀区").GetAsync(eligibility + chaoyang, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.Client("district", "海淀区").GetAsync(eligibility + haidian, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.Client("verifier", verifier).GetAsync(eligibility + haidian, Ct)).StatusCode);
    }

    [Fact]
    public async Task BadRecords_AreRefused_AndNothingIsWritten()
    {
        var uscc = TestUnits.NewUscc();
        var body = new
        {
            name = "x", registeredInPrc = true, independentLegalPerson = true, fixedOffice = true, qualityManagement = Array.Empty<string>(), ghgExperience = Array.Empty<string>(),
            staff = new[] { new { id = "a", name = "a", fullTime = true, experienceYears = new Dictionary<string, int> { ["mining"] = 3 } } },
        };

        var put = await _regulator.PutAsJsonAsync($"/api/verifiers/{uscc}", body, Ct);

        Assert.Contains("unknown industry 'mining'", (await put.AssertProblemAsync(HttpStatusCode.BadRequest)).Detail);
        Assert.Equal(HttpStatusCode.NotFound, (await _regulator.GetAsync($"/api/verifiers/{uscc}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.Client("unit", uscc).PutAsJsonAsync($"/api/verifiers/{uscc}", Body(), Ct)).StatusCode);
        var noUnit = await _regulator.GetAsync($"/api/verifiers/{uscc}/eligibility?year=2025", Ct);
        await noUnit.AssertProblemAsync(HttpStatusCode.BadRequest);
    }
}
