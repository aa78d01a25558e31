using System.Security.Cryptography;
using BeijingEts.Functions.Tests.Verification;

namespace BeijingEts.Functions.Tests.Reporting;

public sealed class QualityPlanFixture : EtsAppFixture;

/// <summary>Art. 22: a key unit's data-quality control plan, filed in versions that never change, approved or returned by the regulator.</summary>
public sealed class QualityPlanTests(QualityPlanFixture app) : IClassFixture<QualityPlanFixture>
{
    private readonly ReportingClient _reporting = new(app);
    private static int Year => ReportingClient.CurrentYear - 1;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static object Plan(string dataFlow = "DCS meters -> daily log -> monthly ledger -> report", bool withStaff = true, string measuredFuel = "bituminous-coal") => new
    {
        sources = new[]
        {
            new { name = "1# kiln line", fuels = new[] { "bituminous-coal", "diesel" } },
            new { name = "boiler house", fuels = new[] { "natural-gas" } },
        },
        measuredParameters = new[]
        {
            new { parameter = "net-calorific-value", fuel = measuredFuel, method = "GB/T 213 bomb calorimeter", instrument = "laboratory", laboratory = (string?)"北京某检测中心", frequency = "each-batch" },
            new { parameter = "consumption", fuel = "natural-gas", method = "ultrasonic flow meter, calibrated yearly", instrument = "meter", laboratory = (string?)null, frequency = "daily" },
        },
        dataFlow,
        staff = withStaff
            ? new[] { new { name = "王芳", responsibility = "accounting", phone = (string?)"010-12345678" }, new { name = "李强", responsibility = "reporting", phone = (string?)null } }
            : [],
    };

    private Task<HttpResponseMessage> FileAsync(string uscc, object plan) =>
        app.Client("unit", uscc).PutAsJsonAsync($"/api/units/{uscc}/quality-plans/{Year}", plan, Ct);

    private Task<HttpResponseMessage> DecideAsync(string uscc, int version, string decision, params string[] reasons) =>
        _reporting.Regulator.PostAsJsonAsync($"/api/units/{uscc}/quality-plans/{Year}/decision", new { version, decision, reasons }, Ct);

    [Fact]
    public async Task APlanReturnedWithReasons_IsFiledAgain_AndTheNewVersionApproved_TheOldOneKeptAsItWas()
    {
        var uscc = await _reporting.ListedUnitAsync(Year);

        var first = await FileAsync(uscc, Plan(dataFlow: "meters to report"));
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var filed = await first.Content.ReadFromJsonAsync<JsonElement>(Ct);
        Assert.Equal((1, "submitted"), (filed.GetProperty("version").GetInt32(), filed.GetProperty("status").GetString()));
        Assert.Equal(JsonValueKind.Null, filed.GetProperty("approvedVersion").ValueKind);

        var returned = await DecideAsync(uscc, 1, "returned", "The data flow does not say who checks the monthly ledger.");
        Assert.Equal(HttpStatusCode.OK, returned.StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await FileAsync(uscc, Plan())).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await DecideAsync(uscc, 2, "approved")).StatusCode);

        var latest = await app.Client("district", "朝阳区").GetFromJsonAsync<JsonElement>($"/api/units/{uscc}/quality-plans/{Year}", Ct);
        Assert.Equal((2, "approved", 2), (latest.GetProperty("version").GetInt32(), latest.GetProperty("status").GetString(), latest.GetProperty("approvedVersion").GetInt32()));
        Assert.Equal("王芳", latest.GetProperty("plan").GetProperty("staff")[0].GetProperty("name").GetString());
        Assert.Equal("北京某检测中心", latest.GetProperty("plan").GetProperty("measuredParameters")[0].GetProperty("laboratory").GetString());

        var old = await app.Client("unit", uscc).GetFromJsonAsync<JsonElement>($"/api/units/{uscc}/quality-plans/{Year}/versions/1", Ct);
        Assert.Equal(("returned", "meters to report"), (old.GetProperty("status").GetString(), old.GetProperty("plan").GetProperty("dataFlow").GetString()));
        Assert.Equal("The data flow does not say who checks the monthly ledger.", old.GetProperty("decision").GetProperty("reasons")[0].GetString());
        Assert.Equal(2, old.GetProperty("latestVersion").GetInt32());

        var audit = await _reporting.Regulator.GetFromJsonAsync<JsonElement>($"/api/audit?subject=units/{uscc}/quality-plans/{Year}", Ct);
        var actions = audit.GetProperty("entries").EnumerateArray().Select(r => r.GetProperty("action").GetString()).ToList();
        Assert.Equal(["quality-plan.approved", "quality-plan.filed", "quality-plan.filed", "quality-plan.returned"], actions.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task BadPlans_AreRefusedWithWhatToFix_AndNothingIsFiled()
    {
        var uscc = await _reporting.ListedUnitAsync(Year);

        var noStaff = await FileAsync(uscc, Plan(withStaff: false));
        Assert.Equal(HttpStatusCode.BadRequest, noStaff.StatusCode);
        Assert.Contains("responsible for accounting", await noStaff.Content.ReadAsStringAsync(Ct));
        var unknownFuel = await FileAsync(uscc, Plan(measuredFuel: "heavy-oil"));
        Assert.Equal(HttpStatusCode.BadRequest, unknownFuel.StatusCode);
        Assert.Contains("'heavy-oil' is not a fuel of any source", await unknownFuel.Content.ReadAsStringAsync(Ct));
        Assert.Equal(HttpStatusCode.BadRequest, (await FileAsync(uscc, Plan(dataFlow: " "))).StatusCode);

        Assert.Equal(HttpStatusCode.NotFound, (await _reporting.Regulator.GetAsync($"/api/units/{uscc}/quality-plans/{Year}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await DecideAsync(uscc, 1, "approved")).StatusCode);

        var general = await _reporting.ListedUnitAsync(Year, key: false);
        var notKey = await FileAsync(general, Plan());
        Assert.Equal(HttpStatusCode.UnprocessableEntity, notKey.StatusCode);
        Assert.Contains("not a key unit", await notKey.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task Decisions_TakeReasonsToReturn_OnlyTheLatestVersion_AndOnlyOnce()
    {
        var uscc = await _reporting.ListedUnitAsync(Year);
        Assert.Equal(HttpStatusCode.Created, (await FileAsync(uscc, Plan())).StatusCode);
        Assert.Equal(HttpStatusCode.Created, (await FileAsync(uscc, Plan(dataFlow: "second"))).StatusCode);

        var noReasons = await DecideAsync(uscc, 2, "returned");
        Assert.Equal(HttpStatusCode.BadRequest, noReasons.StatusCode);
        Assert.Contains("needs reasons", await noReasons.Content.ReadAsStringAsync(Ct));
        Assert.Equal(HttpStatusCode.BadRequest, (await DecideAsync(uscc, 2, "maybe")).StatusCode);
        var superseded = await DecideAsync(uscc, 1, "approved");
        Assert.Equal(HttpStatusCode.Conflict, superseded.StatusCode);
        Assert.Contains("superseded by version 2", await superseded.Content.ReadAsStringAsync(Ct));

        Assert.Equal(HttpStatusCode.OK, (await DecideAsync(uscc, 2, "approved")).StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, (await DecideAsync(uscc, 2, "returned", "changed my mind")).StatusCode);
        var latest = await _reporting.Regulator.GetFromJsonAsync<JsonElement>($"/api/units/{uscc}/quality-plans/{Year}", Ct);
        Assert.Equal("approved", latest.GetProperty("status").GetString());
        var first = await _reporting.Regulator.GetFromJsonAsync<JsonElement>($"/api/units/{uscc}/quality-plans/{Year}/versions/1", Ct);
        Assert.Equal("submitted", first.GetProperty("status").GetString());
    }

    [Fact]
    public async Task OnlyTheUnitFilesAndOnlyTheRegulatorDecides_OtherUnitsAndDistrictsSeeNothing()
    {
        var uscc = await _reporting.ListedUnitAsync(Year);
        var other = await _reporting.ListedUnitAsync(Year);
        Assert.Equal(HttpStatusCode.Created, (await FileAsync(uscc, Plan())).StatusCode);

        // Another unit cannot file for it, nor read it; the unit's own district reads it, another district may not.
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client("unit", other).PutAsJsonAsync($"/api/units/{uscc}/quality-plans/{Year}", Plan(), Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client("unit", other).GetAsync($"/api/units/{uscc}/quality-plans/{Year}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.Client("district", "海淀区").GetAsync($"/api/units/{uscc}/quality-plans/{Year}", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await app.Client("district", "朝阳区").GetAsync($"/api/units/{uscc}/quality-plans/{Year}/versions/1", Ct)).StatusCode);

        // The unit cannot approve its own plan, nor its district.
        var body = new { version = 1, decision = "approved" };
        Assert.Equal(HttpStatusCode.Forbidden, (await app.Client("unit", uscc).PostAsJsonAsync($"/api/units/{uscc}/quality-plans/{Year}/decision", body, Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await app.Client("district", "朝阳区").PostAsJsonAsync($"/api/units/{uscc}/quality-plans/{Year}/decision", body, Ct)).StatusCode);
        var plan = await _reporting.Regulator.GetFromJsonAsync<JsonElement>($"/api/units/{uscc}/quality-plans/{Year}", Ct);
        Assert.Equal(("submitted", 1), (plan.GetProperty("status").GetString(), plan.GetProperty("latestVersion").GetInt32()));
    }

    private Task<HttpResponseMessage> TestReportLinkAsync(string uscc, string parameter = "net-calorific-value", string fuel = "bituminous-coal", string from = "-01-01", string to = "-03-31") =>
        app.Client("unit", uscc).PostAsJsonAsync($"/api/units/{uscc}/quality-plans/{Year}/test-reports", new
        {
            fileName = "煤质检测报告 Q1.pdf", laboratory = "北京某检测中心", parameter, fuel, periodFrom = $"{Year}{from}", periodTo = $"{Year}{to}",
        }, Ct);

    [Fact]
    public async Task ATestReport_ForWhatThePlanMeasures_IsUploadedThroughItsLink_AndKeptApartFromTheReportsAttachments()
    {
        var uscc = await _reporting.ListedUnitAsync(Year);
        var noPlan = await TestReportLinkAsync(uscc);
        Assert.Equal(HttpStatusCode.UnprocessableEntity, noPlan.StatusCode);
        Assert.Contains("file it first", await noPlan.Content.ReadAsStringAsync(Ct));
        Assert.Equal(HttpStatusCode.Created, (await FileAsync(uscc, Plan())).StatusCode);

        var notMeasured = await TestReportLinkAsync(uscc, parameter: "carbon-content");
        Assert.Equal(HttpStatusCode.BadRequest, notMeasured.StatusCode);
        Assert.Contains("does not measure carbon-content of 'bituminous-coal'", await notMeasured.Content.ReadAsStringAsync(Ct));
        Assert.Equal(HttpStatusCode.BadRequest, (await TestReportLinkAsync(uscc, fuel: "diesel")).StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, (await TestReportLinkAsync(uscc, from: "-04-01", to: "-03-31")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await _reporting.Regulator.PostAsJsonAsync($"/api/units/{uscc}/quality-plans/{Year}/test-reports",
            new { fileName = "x.pdf", laboratory = "l", parameter = "net-calorific-value", fuel = "bituminous-coal", periodFrom = $"{Year}-01-01", periodTo = $"{Year}-01-31" }, Ct)).StatusCode);

        var issued = await TestReportLinkAsync(uscc);
        Assert.Equal(HttpStatusCode.Created, issued.StatusCode);
        var link = await issued.Content.ReadFromJsonAsync<JsonElement>(Ct);
        var content = "GB/T 213: Qnet,ar 21.35 MJ/kg"u8.ToArray();
        Assert.Equal(HttpStatusCode.Created, (await VerificationClient.UploadAsync(link.GetProperty("uploadUrl").GetString()!, content, "application/pdf")).StatusCode);

        JsonElement report = default;
        await Eventually.HoldsAsync(async () =>
        {
            report = (await app.Client("district", "朝阳区").GetFromJsonAsync<JsonElement>($"/api/units/{uscc}/quality-plans/{Year}/test-reports", Ct))[0];
            return report.GetProperty("attachment").GetProperty("status").GetString() == "received";
        }, "the test report is filed");
        var filed = report.GetProperty("attachment");
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(content)), filed.GetProperty("sha256").GetString());
        Assert.Equal(("北京某检测中心", "net-calorific-value", "bituminous-coal", 1), (filed.GetProperty("test").GetProperty("laboratory").GetString(),
            filed.GetProperty("test").GetProperty("parameter").GetString(), filed.GetProperty("test").GetProperty("fuel").GetString(), filed.GetProperty("test").GetProperty("planVersion").GetInt32()));
        Assert.Equal(content, await VerificationClient.Anonymous.GetByteArrayAsync(report.GetProperty("downloadUrl").GetString(), Ct));
        // Not a supporting document of the annual report.
        Assert.Empty((await _reporting.Regulator.GetFromJsonAsync<JsonElement>($"/api/units/{uscc}/reports/{Year}/attachments", Ct)).EnumerateArray());
        var other = await _reporting.ListedUnitAsync(Year);
        Assert.Equal(HttpStatusCode.NotFound, (await app.Client("unit", other).GetAsync($"/api/units/{uscc}/quality-plans/{Year}/test-reports", Ct)).StatusCode);
    }
}
