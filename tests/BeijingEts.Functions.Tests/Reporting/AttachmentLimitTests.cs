using BeijingEts.Functions.Tests.Verification;

namespace BeijingEts.Functions.Tests.Reporting;

/// <summary>Attachments of at most 1 KiB, to see an oversized one refused.</summary>
public sealed class SmallAttachmentFixture : EtsAppFixture
{
    protected override IDictionary<string, string?> Settings => new Dictionary<string, string?> { ["Ets:Uploads:MaxAttachmentBytes"] = "1024" };
}

/// <summary>An upload over its limit is refused on its event's content length and never reaches write-once storage (Art. 22 keeps documents, not refusals).</summary>
public sealed class AttachmentLimitTests(SmallAttachmentFixture app) : IClassFixture<SmallAttachmentFixture>
{
    private readonly ReportingClient _reporting = new(app);
    private static int Year => ReportingClient.CurrentYear - 1;
    private CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AnOversizedAttachment_IsRejectedWithTheLimit_AndNotKept()
    {
        await _reporting.SetFactorsAsync(Year);
        var uscc = await _reporting.ListedUnitAsync(Year);
        var issued = await app.Client("unit", uscc).PostAsJsonAsync($"/api/units/{uscc}/reports/{Year}/attachments", new { fileName = "big.xlsx" }, Ct);
        var link = await issued.Content.ReadFromJsonAsync<JsonElement>(Ct);

        Assert.Equal(HttpStatusCode.Created, (await VerificationClient.UploadAsync(link.GetProperty("uploadUrl").GetString()!, new byte[2048], "application/octet-stream")).StatusCode);

        JsonElement attachment = default;
        await Eventually.HoldsAsync(async () =>
        {
            attachment = (await _reporting.Regulator.GetFromJsonAsync<JsonElement>($"/api/units/{uscc}/reports/{Year}/attachments", Ct))[0].GetProperty("attachment");
            return attachment.GetProperty("status").GetString() != "awaiting-upload";
        }, "the attachment is processed");
        Assert.Equal("rejected", attachment.GetProperty("status").GetString());
        Assert.Contains("2048 bytes, over the 1024-byte limit", attachment.GetProperty("reason").GetString());
        var blobName = attachment.GetProperty("blobName").GetString()!;
        Assert.True(await app.Storage.Container(StorageNames.Containers.Staging).GetBlobClient(blobName).ExistsAsync(Ct));
        Assert.False(await app.Storage.Container(StorageNames.Containers.Uploads).GetBlobClient(blobName).ExistsAsync(Ct));
    }
}
