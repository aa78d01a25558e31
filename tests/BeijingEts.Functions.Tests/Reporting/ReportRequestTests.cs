using BeijingEts.Domain.Lists;
using BeijingEts.Functions.Lists;
using BeijingEts.Functions.Tests.Lists;

namespace BeijingEts.Functions.Tests.Reporting;

public sealed class ReportRequestFixture : EtsAppFixture;

/// <summary>
/// What a report submission reads, it reads once (issue 20): a published revision's lines for good, the unit and the
/// latest revision for <see cref="PublishedListStore.RecentFor"/>; and none of it answers wrongly for longer than that.
/// </summary>
public sealed class ReportRequestTests(ReportRequestFixture app) : IClassFixture<ReportRequestFixture>
{
    private const int Year = 2025;
    private readonly ReportingClient _reporting = new(app);
    private CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AUnitsLine_AndAUnitsAbsence_AreKeptForTheRevision_AfterItsDocumentLeftTheRevisionCache()
    {
        var listed = await _reporting.ListedUnitAsync(Year);
        var absent = TestUnits.NewUscc();
        var store = new PublishedListStore(app.Storage); // another instance's store: nothing read yet
        var revision = (await store.LatestRevisionAsync(Year, Ct))!.Revision;
        var (line, first) = await StorageRequestCount.OfAsync(() => store.EntryAsync(Year, revision, listed, Ct));
        Assert.Equal(Categories.Key, line!.Category);
        Assert.Equal(1, first); // the revision's document
        Assert.Null(await store.EntryAsync(Year, revision, absent, Ct));

        // Sixteen other revisions read push this one's document out of the revision cache.
        var rules = ListRulesView.From(ListRules.Default);
        for (var n = 1; n <= 16; n++)
        {
            var other = new ListRevision(2090, n, DateTimeOffset.UtcNow, "test", $"h{n}", 0, 0, rules);
            await store.WriteAsync(other, [], Ct);
            await store.EntriesAsync(2090, n, Ct);
        }

        var (again, requests) = await StorageRequestCount.OfAsync(async () =>
            (await store.EntryAsync(Year, revision, listed, Ct), await store.EntryAsync(Year, revision, absent, Ct)));
        Assert.Equal(line, again.Item1);
        Assert.Null(again.Item2);
        Assert.Equal(0, requests);
        var (_, document) = await StorageRequestCount.OfAsync(() => store.EntriesAsync(Year, revision, Ct));
        Assert.Equal(1, document); // the document itself had left: the lines came from their own cache
    }

    [Fact]
    public async Task AUnitMovedToAnotherDistrictOnThisInstance_HasItsNextReportCheckedThere_AtOnce()
    {
        await _reporting.SetFactorsAsync(Year);
        var general = await _reporting.ListedUnitAsync(Year, key: false, district: "朝阳区");
        await _reporting.SubmitAsync(general, Year, ReportingClient.Report()); // the unit is now read recently, in 朝阳区

        var moved = await _reporting.Regulator.PutAsJsonAsync($"/api/units/{general}", new { name = "迁入海淀", district = "海淀区", industry = "cement" }, Ct);
        Assert.Equal(HttpStatusCode.OK, moved.StatusCode);
        await _reporting.SubmitAsync(general, Year, ReportingClient.Report(coal: 2));

        Assert.Equal(2, (await GeneralReportCheckAsync("海淀区", general))!.Value.GetProperty("revision").GetInt32());
        Assert.Equal(1, (await GeneralReportCheckAsync("朝阳区", general))!.Value.GetProperty("revision").GetInt32()); // the first version's, left as it was
    }

    private async Task<JsonElement?> GeneralReportCheckAsync(string district, string uscc)
    {
        var queue = await app.Client("district", district).GetFromJsonAsync<JsonElement>($"/api/districts/{district}/checks?kind=general-report&unit={uscc}", Ct);
        return queue.GetProperty("checks").EnumerateArray().Select(c => (JsonElement?)c).SingleOrDefault();
    }
}
